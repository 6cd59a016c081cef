"""Replay's queries on PostgreSQL, chained with the replay engine as the page chains them, and the tenant wall:
tenant B cannot replay tenant A's snapshots, counts or policies, even when it names A's ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.engines.replay.frames import Window, blocked_flows, window_counts
from jobs.engines.replay.history import PolicyHistory, PolicyVersion, StatusChange, parse_manifest
from models.db import session_scope
from models.errors import Invalid
from models.queries import replay as q
from state import graph_data
from tests.bench.bench_replay import seed_history
from tests.builders import make_tenant

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def _history(tenant_id: int) -> PolicyHistory:
    async with session_scope() as session:
        versions = await q.policy_versions(session, tenant_id=tenant_id)
        changes = await q.policy_changes(session, tenant_id=tenant_id, policy_ids=[v.id or 0 for v in versions])
    parsed = [
        PolicyVersion(v.id or 0, v.namespace, v.name, v.version, parse_manifest(v.yaml), cluster=v.cluster)
        for v in versions
    ]
    return PolicyHistory(parsed, [StatusChange(*c) for c in changes])


async def test_a_period_replays_its_windows_counts_and_the_policies_approved_then(app_ctx: str) -> None:
    alpha = await make_tenant("alpha")
    seeded = await seed_history(alpha.tenant_id, start=START, hours=8, approve_after=2)
    async with session_scope() as session:
        rows = await q.period_snapshots(session, tenant_id=alpha.tenant_id, start=START + HOUR, end=START + 7 * HOUR)
        ids = [r.id or 0 for r in rows]
        nodes = await q.period_nodes(session, tenant_id=alpha.tenant_id, snapshot_ids=ids)
        pairs = await q.period_pairs(session, tenant_id=alpha.tenant_id, snapshot_ids=ids)
        events = await q.event_counts(session, tenant_id=alpha.tenant_id, snapshot_ids=ids)
        spans = await q.incident_spans(session, tenant_id=alpha.tenant_id, start=START + HOUR, end=START + 7 * HOUR)
        assert await q.snapshot_sources(session, tenant_id=alpha.tenant_id) == ["hubble"]
        assert await q.snapshot_span(session, tenant_id=alpha.tenant_id) == (START, START + 8 * HOUR)
    assert ids == seeded["snapshot_ids"][1:7]
    assert [r.window_start for r in rows] == [START + h * HOUR for h in range(1, 7)]
    # the external address of hour 5 is among the period's nodes; the layout pairs include web → db (hour 3)
    assert "203.0.113.9" in {n[0] for n in nodes} and ("shop/web", "shop/db") in pairs
    windows = [Window(r.id or 0, r.window_start, r.window_end) for r in rows]
    counts = window_counts(windows, events, spans)
    assert [c.total_events for c in counts] == [0, 0, 1, 0, 1, 0]  # hours 1..6: web → db at 3, external at 5
    assert counts[2].events == {"high": 1}
    assert [c.incidents_active for c in counts] == [1, 1, 1, 1, 1, 1]  # the first incident runs 1..4, the second 5..7

    history = await _history(alpha.tenant_id)
    # approved at 02:30: not in force at the end of hour 1's window (02:00), in force from hour 2's (03:00)
    assert history.in_force_at(windows[0].end) == []
    assert [p.label for p in history.in_force_at(windows[1].end)] == ["shop/db v1"]
    graph, _ = await graph_data.load_graph(alpha.tenant_id, windows[2].snapshot_id)
    blocked = blocked_flows(history.in_force_at(windows[2].end), graph)
    assert [(b.src, b.dst, b.dst_port) for b in blocked] == [("shop/web", "shop/db", 5432)]
    quiet, _ = await graph_data.load_graph(alpha.tenant_id, windows[3].snapshot_id)
    assert blocked_flows(history.in_force_at(windows[3].end), quiet) == []


async def test_tenant_b_cannot_replay_tenant_a(app_ctx: str) -> None:
    alpha, bravo = await make_tenant("alpha"), await make_tenant("bravo")
    seeded = await seed_history(alpha.tenant_id, start=START, hours=4)
    a_ids = seeded["snapshot_ids"]
    async with session_scope() as session:
        b = bravo.tenant_id
        assert await q.period_snapshots(session, tenant_id=b, start=START, end=START + 4 * HOUR) == []
        assert await q.snapshot_span(session, tenant_id=b) is None
        assert await q.snapshot_sources(session, tenant_id=b) == []
        # naming A's snapshot and policy ids does not reach A's rows
        assert await q.period_nodes(session, tenant_id=b, snapshot_ids=a_ids) == []
        assert await q.period_pairs(session, tenant_id=b, snapshot_ids=a_ids) == []
        assert await q.event_counts(session, tenant_id=b, snapshot_ids=a_ids) == []
        assert await q.incident_spans(session, tenant_id=b, start=START, end=START + 4 * HOUR) == []
        assert await q.policy_versions(session, tenant_id=b) == []
        assert await q.policy_changes(session, tenant_id=b, policy_ids=[seeded["policy_id"]]) == []
        # A sees its own, so the empty answers above are the wall and not an empty database
        assert len(await q.period_snapshots(session, tenant_id=alpha.tenant_id, start=START, end=START + 4 * HOUR)) == 4
        assert await q.event_counts(session, tenant_id=alpha.tenant_id, snapshot_ids=a_ids)
        assert len(await q.policy_changes(session, tenant_id=alpha.tenant_id, policy_ids=[seeded["policy_id"]])) == 3


async def test_a_period_must_be_ordered_and_not_hold_too_many_windows(
    app_ctx: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha = await make_tenant("alpha")
    await seed_history(alpha.tenant_id, start=START, hours=3)
    monkeypatch.setattr(q, "MAX_FRAMES", 2)
    async with session_scope() as session:
        with pytest.raises(Invalid, match="before its end"):
            await q.period_snapshots(session, tenant_id=alpha.tenant_id, start=START, end=START)
        with pytest.raises(Invalid, match="more than 2 windows"):
            await q.period_snapshots(session, tenant_id=alpha.tenant_id, start=START, end=START + 3 * HOUR)
        only = await q.period_snapshots(
            session, tenant_id=alpha.tenant_id, start=START, end=START + 3 * HOUR, source="zeek"
        )
    assert only == []
