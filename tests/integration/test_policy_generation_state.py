"""The Policies page's generation form, driven as a tab drives it: its default period is the newest week of
windows that hold workloads (policies are learned from them), not the newest week of any data. On the demo
tenant the default was the Zeek week of 2024, which holds no workload, so Generate made nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.auth.session import SESSION_COOKIE
from models.db import session_scope
from models.queries import graph as graph_queries
from state.base import AppState
from state.policy_generation import GenerationState
from tests.bench.bench_replay import _edge, _node, seed_history
from tests.builders import make_tenant
from tests.integration.test_replay_state import _cookie, _open_tab, _run

pytestmark = pytest.mark.integration
PODS = datetime(2026, 11, 30, tzinfo=UTC)
ZEEK = datetime(2026, 12, 20, tzinfo=UTC)


async def test_the_default_period_ends_at_the_newest_window_with_workloads(app_ctx: str) -> None:
    alpha = await make_tenant("alpha")
    await seed_history(alpha.tenant_id, start=PODS, hours=8)
    async with session_scope() as session:  # three weeks later: a sensor's hour, addresses only
        await graph_queries.replace_snapshot(
            session, tenant_id=alpha.tenant_id, window_start=ZEEK, window_end=ZEEK + timedelta(hours=1), source="zeek",
            nodes=[_node("10.0.0.5"), _node("198.51.100.7")], edges=[_edge("10.0.0.5", "198.51.100.7", 443, ZEEK, 900)])
    root = _open_tab()
    root.router_data = root._update_router_vars({"headers": {"cookie": f"{SESSION_COOKIE}={await _cookie(alpha)}"}},
                                                root.router_data)
    await _run(root, AppState, "check_session")
    await _run(root, GenerationState, "load")
    state = await root.get_state(GenerationState)
    assert isinstance(state, GenerationState)
    assert state.period == {"start": "2026-11-30T00:00", "end": "2026-11-30T08:00"}, state.period
    assert "9 ready window(s) from 2026-11-30 00:00 to 2026-12-20 01:00 UTC; 8 hold Kubernetes workloads" in \
        state.available
