"""A tenant's day for the report tests: a snapshot with workloads and an outside peer, two new_external events,
two incidents (a high scan and a medium new peer) linked to them, and an approved policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models.db import session_scope
from models.incidents import IncidentRow, incident_totals
from models.policy import Policy
from models.queries import drift_store
from models.queries import graph as graph_queries
from models.queries import incidents as incident_queries
from tests.integration.drift_support import fake_event

DAY = datetime(2026, 12, 4, tzinfo=UTC)
POLICY = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-api, namespace: payments}\n"


def _incident(key: str, severity: str, score: float, explanation: str) -> IncidentRow:
    kind, direction, entity, service = key.split("|")
    totals = incident_totals(sources=["payments/api"], hosts=["10.0.0.5"], ports={"443/tcp": 4}, actors={},
                             answered_ports=[], facts={}, latest={"explanation": explanation}, shape=key)
    return IncidentRow(key=key, kind=kind, direction=direction, entity=entity, service=service,
                       first_seen=DAY + timedelta(hours=2), first_reported=DAY + timedelta(hours=3),
                       last_seen=DAY + timedelta(hours=5), peak_risk=80, severity=severity, score=score,
                       rank_note="", events=2, attempts=0, answered=0, summary=explanation, totals=totals)


def _node(key: str, namespace: str | None) -> dict[str, Any]:
    return {"key": key, "name": key.rsplit("/", 1)[-1], "kind": "workload" if namespace else "ip",
            "namespace": namespace, "labels": {}}


def _edge(src: str, dst: str) -> dict[str, Any]:
    return {"src": src, "dst": dst, "dst_port": 443, "protocol": "tcp", "bytes": 1000, "packets": 10, "flows": 4,
            "rejected": 0, "first_seen": DAY + timedelta(hours=3), "last_seen": DAY + timedelta(hours=3)}


async def seed_day(tenant_id: int, *, peer: str = "203.0.113.9", entity: str = "10.0.0.0/24",
                   author: str = "ann@acme", url: str | None = None) -> dict[str, int]:
    """Seed the day (on the database at `url`, the settings' by default); returns the ids made (snapshot, scan and
    peer incidents, policy)."""
    window = DAY + timedelta(hours=3)
    nodes = [_node("payments/api", "payments"), _node("shop/web", "shop"), _node(peer, None)]
    edges = [_edge("payments/api", peer), _edge("shop/web", "payments/api")]
    async with session_scope(url) as session:
        snapshot = await graph_queries.replace_snapshot(
            session, tenant_id=tenant_id, window_start=window, window_end=window + timedelta(hours=1),
            source="test", nodes=nodes, edges=edges)
        changes = await drift_store.replace_snapshot_events(
            session, tenant_id=tenant_id, snapshot_id=snapshot.id or 0, window_start=window,
            events=[fake_event("new_external", "payments/api", peer), fake_event("new_external", "shop/web", peer)])
        ids = await incident_queries.upsert_incidents(session, tenant_id=tenant_id, rows=[
            _incident(f"scan|inbound|{entity}|", "high", 90.0, f"198.51.100.7 probed 900 ports on {entity}"),
            _incident(f"new_external|outbound|{peer}|", "medium", 40.0, f"payments/api talked to {peer} first"),
        ])
        scan, fresh = ids.values()
        await incident_queries.link_events(session, tenant_id=tenant_id,
                                           links=[(int(e["id"]), fresh) for e in changes.inserted])
        policy = Policy(tenant_id=tenant_id, name="allow-api", namespace="payments", target="payments/api",
                        yaml=POLICY, status="approved", snapshot_ids=[snapshot.id or 0], submitted_by=author,
                        created_at=DAY + timedelta(hours=8), updated_at=DAY + timedelta(hours=9))
        session.add(policy)
        await session.flush()
    return {"snapshot": snapshot.id or 0, "scan": scan, "peer": fresh, "policy": policy.id or 0}
