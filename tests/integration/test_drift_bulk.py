"""Issue 21 on the Events tab: "Window" sorts by the flow window (not detection time), and a bulk change covers
every event matching the filter (beyond one page), with the count confirmed first and later arrivals untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from models.db import session_scope
from models.errors import Invalid
from models.ops import AuditLog
from models.queries import drift as drift_queries
from tests.builders import make_tenant
from tests.integration.drift_support import fake_event, seed_events

pytestmark = pytest.mark.integration
T0 = datetime(2024, 4, 19, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _many(prefix: str, n: int, severity: str = "high") -> list[dict[str, object]]:
    return [fake_event("new_edge", f"{prefix}/src{i}", f"{prefix}/dst{i}", 8000 + i, risk=60, severity=severity)
            for i in range(n)]


async def test_window_sorts_by_the_flow_window_not_by_detection_time(app_ctx: str) -> None:
    a = (await make_tenant("alpha")).tenant_id
    # the later window is detected first (a late file), so detection time and window disagree
    await seed_events(a, T0 + HOUR, [fake_event("new_edge", "late/a", "late/b", 1)])
    await seed_events(a, T0, [fake_event("new_edge", "early/a", "early/b", 1)])
    async with session_scope() as session:
        by_window, _ = await drift_queries.list_events(session, tenant_id=a, sort="window_start", descending=False)
        by_detection, _ = await drift_queries.list_events(session, tenant_id=a, sort="created_at", descending=False)
    assert [r.src for r in by_window] == ["early/a", "late/a"]
    assert [r.src for r in by_detection] == ["late/a", "early/a"]


async def test_bulk_by_filter_changes_every_match_counted_and_audits_each(app_ctx: str) -> None:
    a, b = (await make_tenant("alpha")).tenant_id, (await make_tenant("bravo")).tenant_id
    await seed_events(a, T0, [*_many("shop", 70), *_many("low", 5, severity="low")])
    await seed_events(b, T0, _many("shop", 3))
    async with session_scope() as session:
        count, upto = await drift_queries.count_matching(session, tenant_id=a, severity="high", status="open")
    assert count == 70
    # one more arrives after the confirmation: it is not part of what was confirmed
    await seed_events(a, T0 + HOUR, _many("shop", 1))
    async with session_scope() as session:
        changed = await drift_queries.set_status_matching(session, tenant_id=a, new_status="acknowledged",
                                                          actor="ann", upto_id=upto, severity="high", status="open")
    assert changed == 70
    async with session_scope() as session:
        _, still_open = await drift_queries.list_events(session, tenant_id=a, status="open")
        _, acked = await drift_queries.list_events(session, tenant_id=a, status="acknowledged")
        _, theirs = await drift_queries.list_events(session, tenant_id=b, status="open")
        audits = list(await session.exec(select(AuditLog).where(
            AuditLog.tenant_id == a, col(AuditLog.action) == "drift_event.status")))
        # again with nothing left to change: 0, and no audit noise
        again = await drift_queries.set_status_matching(session, tenant_id=a, new_status="acknowledged",
                                                        actor="ann", upto_id=upto, severity="high")
    assert (still_open, acked, theirs, again) == (6, 70, 3, 0)
    assert len(audits) == 70 and {x.before["status"] for x in audits} == {"open"}
    assert all(x.target.startswith("drift_event:") and x.actor == "ann" for x in audits)
    async with session_scope() as session:
        with pytest.raises(Invalid, match="unknown status"):
            await drift_queries.set_status_matching(session, tenant_id=a, new_status="gone", actor="ann", upto_id=upto)
