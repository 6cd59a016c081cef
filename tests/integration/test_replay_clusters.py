"""Replay with two clusters (issue 19 A4) on PostgreSQL, through the page's cache: a policy of cluster `east` with
the default cluster's `shop/db` name is another policy, so both are in force and each frame names both; a newer
east version never stands in for the default cluster's. Another tenant replaying the same period sees neither."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.engines.replay.period import Period
from models.db import session_scope
from models.ops import AuditLog
from models.policy import Policy
from state import replay_cache
from tests.bench.bench_replay import DB_POLICY, seed_history
from tests.builders import make_tenant

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def _approve_east_version(tenant_id: int, version: int, at: datetime) -> int:
    """East's `shop/db` at `version`, approved at `at` (audited as the review workflow audits it)."""
    async with session_scope() as session:
        row = Policy(tenant_id=tenant_id, name="db", namespace="shop", cluster="east", target="east/shop/db",
                     yaml=DB_POLICY, status="approved", version=version, created_at=at - HOUR, updated_at=at)
        session.add(row)
        await session.flush()
        session.add(AuditLog(tenant_id=tenant_id, actor="approver@replay.test", action="policy.approve",
                             target=f"policy:{row.id}", before={}, after={"status": "approved"}, created_at=at))
    return row.id or 0


async def test_two_clusters_policies_of_one_name_are_both_in_force_in_each_frame(app_ctx: str) -> None:
    alpha, beta = await make_tenant("alpha"), await make_tenant("beta")
    # the default cluster's shop/db v1 is approved at 02:30; east's v2 of the same namespace/name at 01:30
    await seed_history(alpha.tenant_id, start=START, hours=6, approve_after=2)
    await _approve_east_version(alpha.tenant_id, 2, START + HOUR + timedelta(minutes=30))
    await seed_history(beta.tenant_id, start=START, hours=6, approve_after=99)
    period = Period(START, START + 6 * HOUR)

    data = await replay_cache.open_period(alpha.tenant_id, period, None)
    assert [v.label for v in data.history.in_force_at(START + 2 * HOUR)] == ["east/shop/db v2"]
    assert [v.label for v in data.history.in_force_at(START + 3 * HOUR)] == ["shop/db v1", "east/shop/db v2"]
    frame = await replay_cache.frame(alpha.tenant_id, data, 3)  # 03:00–04:00, where web talks to db directly
    assert "2 policies approved" in frame.note and "shop/db v1, east/shop/db v2" in frame.note
    # east's policy selects no pod of this (default-cluster) data: the blocked edge is the default policy's
    assert [row["refused"] for row in frame.blocked] == ["ingress: shop/db"]
    assert [row["edge"].split(" → ")[0] for row in frame.blocked] == ["shop/web"]

    other = await replay_cache.open_period(beta.tenant_id, period, None)
    assert other.history.in_force_at(START + 6 * HOUR) == []
    assert "No policy was approved" in (await replay_cache.frame(beta.tenant_id, other, 2)).note
