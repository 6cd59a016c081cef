"""The Replay page's state driven as a browser tab drives it (on_load with a shared link, steps, the player), on
PostgreSQL, and the wall: the next tenant in the same tab, with the same link, replays nothing of the first."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any

import pytest
from reflex.state import BaseState, State
from reflex_base import constants

from jobs.auth.session import SESSION_COOKIE
from models.db import session_scope
from models.queries import tenancy
from state.base import AppState
from state.replay import ReplayState
from tests.bench.bench_replay import seed_history
from tests.builders import TenantFixture, make_tenant

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 30, tzinfo=UTC)
LINK = "/replay?from=2026-11-30T00:00&to=2026-11-30T08:00&frame=4"


async def _cookie(tenant: TenantFixture) -> str:
    async with session_scope() as session:
        user = await tenancy.find_user_by_email(session, email=tenant.admin_email)
        assert user is not None
        return await tenancy.create_session(session, tenant_id=tenant.tenant_id, user_id=user.id or 0, idle_minutes=30)


def _open_tab() -> State:
    root = State(_reflex_internal_init=True)
    root.router_data = root._update_router_vars(
        {constants.RouteVar.CLIENT_TOKEN: "replay-tab", constants.RouteVar.HEADERS: {}}, {}
    )
    return root


async def _run(root: State, cls: type[BaseState], name: str, *args: Any) -> Any:
    out = cls.event_handlers[name].fn(await root.get_state(cls), *args)
    return await out if inspect.isawaitable(out) else out


async def _open_link(root: State, cookie: str, link: str) -> ReplayState:
    """The tab opens `link` signed in with `cookie`: the session check, then the page's load."""
    path = link.split("?", 1)[0]
    root.router_data = root._update_router_vars(
        {
            constants.RouteVar.HEADERS: {"cookie": f"{SESSION_COOKIE}={cookie}", "origin": "http://sg.test"},
            constants.RouteVar.PATH: path,
            constants.RouteVar.ORIGIN: link,
        },
        root.router_data,
    )
    await _run(root, AppState, "check_session")
    await _run(root, ReplayState, "load")
    state = await root.get_state(ReplayState)
    assert isinstance(state, ReplayState)
    return state


async def test_a_shared_link_opens_its_frame_and_steps_and_play_move_the_url(app_ctx: str) -> None:
    alpha = await make_tenant("alpha")
    await seed_history(alpha.tenant_id, start=START, hours=8, approve_after=2)
    root = _open_tab()
    state = await _open_link(root, await _cookie(alpha), LINK)
    assert (state.frame, state.frame_count, state.message) == (4, 8, "")
    assert state.frame_label == "2026-11-30 03:00 – 04:00 UTC"
    assert "by the 1 policy approved at 2026-11-30 04:00 UTC (shop/db v1)" in state.policies_note
    assert [row["edge"] for row in state.blocked] == ["shop/web → shop/db:5432/tcp"]
    assert state.counts["high"] == "1" and state.counts["drift events"] == "1"

    answer = await _run(root, ReplayState, "step", 1)
    assert state.frame == 5 and "frame=5" in repr(answer)
    assert state.blocked == [] and "0 flows" in state.policies_note
    await _run(root, ReplayState, "step", -4)
    assert state.frame == 1 and "No policy was approved by 2026-11-30 01:00 UTC" in state.policies_note
    await _run(root, ReplayState, "step", -1)  # already at the first: nothing moves
    assert state.frame == 1

    await _run(root, ReplayState, "toggle_play")
    assert state.playing
    for expected in range(2, 9):
        answer = await _run(root, ReplayState, "tick", "")
        assert state.frame == expected and f"frame={expected}" in repr(answer)
    await _run(root, ReplayState, "tick", "")
    assert state.frame == 8 and not state.playing  # stops at the last frame
    await _run(root, ReplayState, "go_to", [3.0])
    assert state.frame == 3


async def test_a_bad_link_says_why_and_the_next_tenant_in_the_tab_replays_nothing(app_ctx: str) -> None:
    alpha, bravo = await make_tenant("alpha"), await make_tenant("bravo")
    await seed_history(alpha.tenant_id, start=START, hours=8)
    root = _open_tab()
    bad = await _open_link(root, await _cookie(alpha), "/replay?from=2026-11-30T09:00&to=2026-11-30T08:00")
    assert bad.message == "From must lie before To" and bad.frame_count == 0
    state = await _open_link(root, await _cookie(alpha), LINK)
    assert state.frame_count == 8

    # bravo signs in in the same tab and opens the same link
    state = await _open_link(root, await _cookie(bravo), LINK)
    assert state.frame_count == 0 and state.message.startswith("No snapshots yet")
    assert state._shown == "" and state.figure == {} and state.timeline == {}
    shown = repr(state.dict())
    assert "shop/" not in shown and "policy" not in state.policies_note
