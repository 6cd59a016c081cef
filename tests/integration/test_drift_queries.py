"""The drift query functions the pages call, and the idempotency rule of persisted events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from models.db import session_scope
from models.drift import Whitelist
from models.errors import NotFound
from models.public.drift import WhitelistPublic
from models.queries import drift as drift_queries
from models.queries import drift_store
from models.queries import whitelist as whitelist_queries
from models.tenancy import User
from tests.builders import make_tenant
from tests.integration.drift_support import fake_event, seed_events

pytestmark = pytest.mark.integration
T0 = datetime(2024, 4, 19, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def two_tenants() -> tuple[int, int]:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    await seed_events(a.tenant_id, T0, [
        fake_event("beacon", "10.0.0.5", "203.0.113.9", 80, risk=90, severity="critical"),
        fake_event("new_port", "shop/api", "shop/db", 5432, risk=60, severity="high",
                   explanation="New port shop/api → shop/db:5432/tcp: 100%_sure"),
        fake_event("new_edge", "shop/web", "shop/api", 8080, risk=30, severity="low"),
    ])
    await seed_events(a.tenant_id, T0 + HOUR, [
        fake_event("new_external", "shop/api", "198.51.100.7", 443, risk=75, severity="high"),
        fake_event("new_node", "shop/cron", "shop/cron", None, risk=12, severity="info", status="suppressed"),
    ])
    await seed_events(b.tenant_id, T0, [fake_event("beacon", "10.9.9.9", "203.0.113.9", 80, risk=99,
                                                   severity="critical")])
    return a.tenant_id, b.tenant_id


async def test_list_events_filters_sorts_pages_and_refuses_bad_values(app_ctx: str) -> None:
    a, b = await two_tenants()
    async with session_scope() as session:
        async def kinds(**filters: object) -> tuple[list[str], int]:
            rows, total = await drift_queries.list_events(session, tenant_id=a, **filters)  # type: ignore[arg-type]
            return [r.kind for r in rows], total

        assert await kinds() == (["beacon", "new_external", "new_port", "new_edge", "new_node"], 5)
        assert await kinds(limit=2, offset=1) == (["new_external", "new_port"], 5)
        assert await kinds(text="SHOP/DB") == (["new_port"], 1)
        assert await kinds(text="100%_") == (["new_port"], 1)
        assert await kinds(text="shop_db") == ([], 0)
        assert await kinds(severity="high") == (["new_external", "new_port"], 2)
        assert await kinds(status="suppressed") == (["new_node"], 1)
        assert await kinds(since=T0 + HOUR) == (["new_external", "new_node"], 2)
        assert await kinds(until=T0 + HOUR, min_risk=31) == (["beacon", "new_port"], 2)
        assert (await kinds(sort="severity"))[0] == ["beacon", "new_external", "new_port", "new_edge", "new_node"]
        assert (await kinds(sort="kind", descending=False))[0] == [
            "beacon", "new_edge", "new_external", "new_node", "new_port"]
        assert (await kinds(sort="created_at", descending=False))[0][0] == "beacon"
        assert await kinds(kind="beacon") == (["beacon"], 1)
        for filters, message in [
            ({"sort": "src"}, "unknown sort key 'src'"), ({"severity": "urgent"}, "unknown severity 'urgent'"),
            ({"limit": 0}, "limit must lie between 1 and 1000"), ({"offset": -1}, "offset must not be negative"),
            ({"since": T0 + HOUR, "until": T0}, "since must be before until"),
            ({"min_risk": -1}, "min_risk must lie between 0 and 100"),
        ]:
            with pytest.raises(ValueError, match=message):
                await kinds(**filters)
        rows, total = await drift_queries.list_events(session, tenant_id=b)
    assert total == 1 and rows[0].src == "10.9.9.9"


async def test_bulk_status_is_all_or_nothing_and_history_reads_newest_first(app_ctx: str) -> None:
    a, b = await two_tenants()
    async with session_scope() as session:
        rows, _ = await drift_queries.list_events(session, tenant_id=a)
        theirs, _ = await drift_queries.list_events(session, tenant_id=b)
        ids = [r.id or 0 for r in rows]
        with pytest.raises(NotFound, match=f"drift event {theirs[0].id} not found"):
            await drift_queries.set_event_status(session, tenant_id=a, event_ids=[ids[0], theirs[0].id or 0],
                                                 status="resolved", actor="ann")
        [stranger] = await session.exec(select(User).where(User.tenant_id == b))
        with pytest.raises(NotFound, match=f"user {stranger.id} not found"):
            await drift_queries.add_feedback(session, tenant_id=a, event_id=ids[0], verdict="true_positive",
                                             actor="eve", user_id=stranger.id)
        with pytest.raises(ValueError, match="choose between 1 and 1000 events"):
            await drift_queries.set_event_status(session, tenant_id=a, event_ids=[], status="resolved", actor="ann")
    async with session_scope() as session:
        assert {r.status for r in (await drift_queries.list_events(session, tenant_id=a))[0]} == {"open", "suppressed"}
        changed = await drift_queries.set_event_status(session, tenant_id=a, event_ids=ids[:3], status="acknowledged",
                                                       actor="ann")
        assert [r.status for r in changed] == ["acknowledged"] * 3 and changed[0].status_by == "ann"
        assert changed[0].status_at is not None
        await drift_queries.add_feedback(session, tenant_id=a, event_id=ids[0], verdict="true_positive", actor="bob",
                                         user_id=None, note="confirmed with the owner")
        await drift_queries.set_event_status(session, tenant_id=a, event_ids=[ids[0]], status="resolved", actor="ann")
        history = await drift_queries.event_history(session, tenant_id=a, event_id=ids[0])
        with pytest.raises(NotFound):
            await drift_queries.event_history(session, tenant_id=b, event_id=ids[0])
    assert [(h["action"], h["actor"]) for h in history] == [
        ("status", "ann"), ("feedback", "bob"), ("status", "ann"), ("detected", "detector")]
    assert history[0]["detail"] == "acknowledged → resolved"
    assert history[1]["detail"] == "true positive: confirmed with the owner"
    assert set(history[0]) == {"at", "actor", "action", "detail"}


async def test_timeline_and_kpis_count_only_the_tenants_events(app_ctx: str) -> None:
    a, b = await two_tenants()
    async with session_scope() as session:
        timeline = await drift_queries.drift_timeline(session, tenant_id=a)
        later = await drift_queries.drift_timeline(session, tenant_id=a, since=T0 + HOUR)
        kpis = await drift_queries.drift_kpis(session, tenant_id=a)
        others = await drift_queries.drift_kpis(session, tenant_id=b)
    assert timeline == [
        {"bucket": T0.isoformat(), "severity": "critical", "count": 1},
        {"bucket": T0.isoformat(), "severity": "high", "count": 1},
        {"bucket": T0.isoformat(), "severity": "low", "count": 1},
        {"bucket": (T0 + HOUR).isoformat(), "severity": "high", "count": 1},
        {"bucket": (T0 + HOUR).isoformat(), "severity": "info", "count": 1},
    ]
    assert later == timeline[3:]
    assert kpis == {"open": 4, "open_high": 3, "events_24h": 5, "snapshots": 2,
                    "last_snapshot_at": (T0 + HOUR).isoformat(), "suppressed": 1}
    assert others == {"open": 1, "open_high": 1, "events_24h": 1, "snapshots": 1,
                      "last_snapshot_at": T0.isoformat(), "suppressed": 0}


async def test_detecting_again_keeps_analyst_work_and_replaces_the_rest(app_ctx: str) -> None:
    a, b = await two_tenants()
    async with session_scope() as session:
        [snapshot] = await drift_store.prior_snapshots(session, tenant_id=a, before=T0 + HOUR, limit=5)
        rows, _ = await drift_queries.list_events(session, tenant_id=a, snapshot_id=snapshot.id)
        by_kind = {r.kind: r for r in rows}
        await drift_queries.set_event_status(session, tenant_id=a, event_ids=[by_kind["beacon"].id or 0],
                                             status="acknowledged", actor="ann")
        await drift_queries.add_feedback(session, tenant_id=a, event_id=by_kind["new_port"].id or 0,
                                         verdict="true_positive", actor="ann", user_id=None)
    again = [
        fake_event("beacon", "10.0.0.5", "203.0.113.9", 80, risk=95.4, severity="critical", status="suppressed"),
        fake_event("new_edge", "shop/web", "shop/api", 8080, risk=20, severity="low", status="suppressed"),
        fake_event("traffic_spike", "shop/api", "shop/db", 5432, risk=66.6, severity="high"),
    ]
    async with session_scope() as session:
        changes = await drift_store.replace_snapshot_events(session, tenant_id=a, snapshot_id=snapshot.id or 0,
                                                            window_start=T0, events=again + again[:1])
        after = {r.kind: r for r in (await drift_queries.list_events(session, tenant_id=a, snapshot_id=snapshot.id))[0]}
        verdicts = await drift_store.list_verdicts(session, tenant_id=a, before=T0 + HOUR)
        none_yet = await drift_store.list_verdicts(session, tenant_id=a, before=T0)
        theirs = await drift_store.list_verdicts(session, tenant_id=b, before=T0 + HOUR)
    assert (len(changes.inserted), changes.updated, changes.removed, changes.kept) == (1, 2, 0, 1)
    # same pattern, same row: new scores, the analyst's status kept
    assert after["beacon"].id == by_kind["beacon"].id and after["beacon"].risk == 95
    assert after["beacon"].status == "acknowledged"
    # untouched by analysts: follows the engine (here: newly whitelisted)
    assert after["new_edge"].id == by_kind["new_edge"].id and after["new_edge"].status == "suppressed"
    # no longer detected but carrying a verdict: kept as it was
    assert after["new_port"].id == by_kind["new_port"].id and after["new_port"].risk == 60
    assert after["traffic_spike"].risk == 67 and set(after) == {"beacon", "new_edge", "new_port", "traffic_spike"}
    assert verdicts == [{"kind": "new_port", "src": "shop/api", "dst": "shop/db", "dst_port": 5432,
                         "protocol": "tcp", "verdict": "true_positive"}]
    assert none_yet == [] and theirs == []
    async with session_scope() as session:
        changes = await drift_store.replace_snapshot_events(session, tenant_id=a, snapshot_id=snapshot.id or 0,
                                                            window_start=T0, events=[])
    assert (changes.removed, changes.kept) == (2, 2)


async def test_whitelist_queries_validate_and_only_active_entries_apply(app_ctx: str) -> None:
    a, b = await two_tenants()
    now = datetime.now(UTC)
    async with session_scope() as session:
        entry = await whitelist_queries.create_whitelist(
            session, tenant_id=a, src_pattern=" shop/* ", dst_pattern="10.0.0.0/8", port=None,
            expires_at=None, reason="internal sweep", author="ann")
        session.add(Whitelist(tenant_id=a, src_pattern="*", dst_pattern="*", expires_at=now - HOUR, reason="old"))
        with pytest.raises(ValueError, match="expires_at must be in the future"):
            await whitelist_queries.create_whitelist(
                session, tenant_id=a, src_pattern="*", dst_pattern="*", port=22,
                expires_at=(now - HOUR).replace(tzinfo=None), reason="x", author="ann")
    async with session_scope() as session:
        active = await whitelist_queries.active_whitelist(session, tenant_id=a, now=now)
        listed = await drift_queries.list_whitelist(session, tenant_id=a)
        assert await drift_queries.list_whitelist(session, tenant_id=b) == []
        with pytest.raises(NotFound):
            await drift_queries.delete_whitelist(session, tenant_id=b, entry_id=entry.id or 0, actor="eve")
    assert [e.id for e in active] == [entry.id] and entry.src_pattern == "shop/*"
    assert [WhitelistPublic.of(e, now=now).expired for e in listed] == [True, False]
