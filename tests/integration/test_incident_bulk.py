"""Issue 21 on the incident list: a bulk status change covers the ticked incidents or every incident matching the
filters (beyond one page), confirmed on a count that later arrivals do not join; each incident's events follow and
each change is audited; another tenant's incidents are never touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from models.db import session_scope
from models.drift import DriftEvent
from models.errors import NotFound
from models.incidents import Incident, IncidentRow, incident_totals
from models.ops import AuditLog
from models.queries import incident_bulk
from models.queries import incidents as q
from state import bulk
from tests.builders import make_tenant
from tests.integration.drift_support import fake_event, seed_events

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


def row(n: int, kind: str = "scan", severity: str = "medium") -> IncidentRow:
    entity = f"10.0.{n}.0/24"
    return IncidentRow(
        key=f"{kind}|inbound|{entity}|", kind=kind, direction="inbound", entity=entity, service="", first_seen=T0,
        first_reported=T0 + HOUR, last_seen=T0 + 2 * HOUR, peak_risk=40, severity=severity, score=40.0, rank_note="",
        events=1, attempts=10, answered=0, summary=f"{kind} of {entity}",
        totals=incident_totals(sources=["198.51.100.7"], hosts=["10.0.0.5"], ports={"22/tcp": 1}, actors={},
                               answered_ports=[], facts={}, latest={"risk": 40.0}, shape=f"{kind}|inbound||{entity}"))


async def seed(tenant_id: int, rows: list[IncidentRow]) -> list[int]:
    async with session_scope() as session:
        ids = await q.upsert_incidents(session, tenant_id=tenant_id, rows=rows)
    return [ids[(r.key, r.first_seen)] for r in rows]


async def test_filter_wide_change_covers_every_match_counted_and_no_later_arrival(app_ctx: str) -> None:
    a, b = (await make_tenant("alpha")).tenant_id, (await make_tenant("bravo")).tenant_id
    scans = await seed(a, [row(n) for n in range(30)])
    beacons = await seed(a, [row(100 + n, "beacon", "high") for n in range(3)])
    theirs = await seed(b, [row(n) for n in range(5)])
    _, events = await seed_events(a, T0, [fake_event("scan", "198.51.100.7", "10.0.1.5", 22)])
    async with session_scope() as session:
        await q.link_events(session, tenant_id=a, links=[(int(events[0]["id"]), scans[1])])
        await q.set_incident_status(session, tenant_id=a, incident_id=scans[0], status="resolved", by="x@alpha.test")
        counted, upto = await incident_bulk.count_matching(session, tenant_id=a, kind="scan")
    assert (counted, upto) == (30, max(scans))
    late = await seed(a, [row(200)])  # arrives after the count: not in the confirmed change
    async with session_scope() as session:
        changed = await incident_bulk.set_status_matching(session, tenant_id=a, new_status="resolved",
                                                          by="ann@alpha.test", upto_id=upto, kind="scan")
    # the one already resolved is skipped, and the message says so
    assert changed == 29
    assert bulk.outcome("incidents", "resolved", changed, counted, True) == (
        "29 incidents marked resolved. The other 1 already were resolved.")
    async with session_scope() as session:
        statuses = dict((await session.exec(select(Incident.id, Incident.status))).all())
        event_status = (await session.exec(select(DriftEvent.status).where(
            col(DriftEvent.id) == int(events[0]["id"])))).one()
        audits = list(await session.exec(select(AuditLog).where(col(AuditLog.action) == "incident.status",
                                                                col(AuditLog.actor) == "ann@alpha.test")))
    assert {statuses[i] for i in scans} == {"resolved"}
    assert {statuses[i] for i in beacons + late + theirs} == {"open"}
    assert event_status == "resolved"  # the incident's events follow it
    assert sorted(int(a_.target.split(":")[1]) for a_ in audits) == sorted(scans[1:])
    assert all(a_.tenant_id == a for a_ in audits)


async def test_ticked_incidents_change_and_another_tenants_id_is_refused(app_ctx: str) -> None:
    a, b = (await make_tenant("alpha")).tenant_id, (await make_tenant("bravo")).tenant_id
    mine, theirs = await seed(a, [row(n) for n in range(3)]), await seed(b, [row(9)])
    async with session_scope() as session:
        changed = await incident_bulk.set_status_many(session, tenant_id=a, incident_ids=mine[:2],
                                                      status="acknowledged", by="ann@alpha.test")
    assert changed == 2
    with pytest.raises(NotFound):
        async with session_scope() as session:
            await incident_bulk.set_status_many(session, tenant_id=a, incident_ids=[mine[2], theirs[0]],
                                                status="acknowledged", by="ann@alpha.test")
    async with session_scope() as session:
        statuses = dict((await session.exec(select(Incident.id, Incident.status))).all())
    # the refused change is rolled back whole
    assert [statuses[i] for i in mine] == ["acknowledged", "acknowledged", "open"] and statuses[theirs[0]] == "open"


def test_the_selection_helpers_tick_the_page_the_filter_and_clear() -> None:
    page = ["1", "2", "3"]
    assert bulk.toggled(["1"], "2") == ["1", "2"] and bulk.toggled(["1", "2"], "1") == ["2"]
    assert bulk.scoped("page", page, ["1"]) == (page, False)
    assert bulk.scoped("page", page, page) == ([], False)
    assert bulk.scoped("matching", page, []) == (page, True)
    assert bulk.scoped("none", page, page) == ([], False)
    assert bulk.whole_page(page, ["3", "2", "1"]) and not bulk.whole_page(page, ["1"]) and not bulk.whole_page([], [])
    assert bulk.outcome("events", "false_positive", 2, 2, False) == "2 events marked false positive."
