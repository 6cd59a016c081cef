"""Incidents carry the namespaces of their events' nodes (Hubble/Kubernetes name them; Zeek/VPC addresses don't),
and an integration's namespace routing reads them: included namespaces pass, an incident only in excluded ones
is skipped. On PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from jobs.engines.notify.routing import Route
from jobs.integrations.notify.notices import notice_of
from models.db import session_scope
from models.incidents import Incident
from models.queries import drift_store
from models.queries import graph as graph_queries
from models.queries import incidents as q
from tests.builders import make_tenant
from tests.integration import test_incident_queries as incident_tests
from tests.integration.drift_support import fake_event

pytestmark = pytest.mark.integration
row = incident_tests.row
T0 = datetime(2026, 11, 30, tzinfo=UTC)


def _node(key: str, namespace: str | None) -> dict[str, object]:
    kind = "pod" if namespace else "ip"
    return {"key": key, "name": key.rsplit("/", 1)[-1], "kind": kind, "namespace": namespace, "labels": {}}


async def _seeded(tenant_id: int) -> list[int]:
    """One snapshot: payments/api and shop/web (Hubble-like) talking to an outside address; three events."""
    nodes = [_node("payments/api", "payments"), _node("shop/web", "shop"), _node("198.51.100.7", None)]
    events = [fake_event("new_external", "payments/api", "198.51.100.7"),
              fake_event("new_external", "shop/web", "198.51.100.7"),
              fake_event("new_external", "10.9.9.9", "198.51.100.7")]  # a Zeek-like address: no namespace
    async with session_scope() as session:
        snapshot = await graph_queries.replace_snapshot(
            session, tenant_id=tenant_id, window_start=T0, window_end=T0 + timedelta(hours=1), source="test",
            nodes=nodes, edges=[])
        changes = await drift_store.replace_snapshot_events(
            session, tenant_id=tenant_id, snapshot_id=snapshot.id or 0, window_start=T0, events=events)
    return [int(e["id"]) for e in changes.inserted]


async def test_linked_events_give_the_incident_its_namespaces_and_routing_reads_them(db: str) -> None:
    a = (await make_tenant("alpha")).tenant_id
    events = await _seeded(a)
    by_src = dict(zip(("payments/api", "shop/web", "10.9.9.9"), events, strict=True))
    async with session_scope() as session:
        ids = await q.upsert_incidents(session, tenant_id=a, rows=[row("new_external|outbound|198.51.100.7|"),
                                                                    row("new_external|outbound|10.9.9.9|")])
        first, zeek = ids.values()
        await q.link_events(session, tenant_id=a, links=[(by_src["payments/api"], first)])
        await q.link_events(session, tenant_id=a, links=[(by_src["shop/web"], first), (by_src["10.9.9.9"], zeek)])
    async with session_scope() as session:
        found = {i.id: i for i in await session.exec(select(Incident).where(Incident.tenant_id == a))}
    assert found[first].namespaces == ["payments", "shop"]  # merged across two link calls, sorted
    assert found[zeek].namespaces == []
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    notice = notice_of(found[first], kind="new", base_url="http://sg.test")
    assert notice.namespace == "payments, shop"
    assert Route.from_config({"namespaces": {"include": ["shop"]}}, min_severity="info").decide(notice, now).send
    skipped = Route.from_config({"namespaces": {"include": ["batch"]}}, min_severity="info").decide(notice, now)
    assert not skipped.send and "payments, shop" in skipped.reason
    # excluded only when every namespace of the incident is excluded
    assert Route.from_config({"namespaces": {"exclude": ["shop"]}}, min_severity="info").decide(notice, now).send
    both = Route.from_config({"namespaces": {"exclude": ["shop", "payments"]}}, min_severity="info")
    assert not both.decide(notice, now).send
    plain = notice_of(found[zeek], kind="new", base_url="http://sg.test")
    assert not Route.from_config({"namespaces": {"include": ["shop"]}}, min_severity="info").decide(plain, now).send
