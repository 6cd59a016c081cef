"""One browser tab shared across identities (security finding 5): nothing a signed-in user loaded into the
tab's page states, backend-only vars included, is left for a signed-out tab or for the next user."""

from __future__ import annotations

import base64
import inspect
from typing import Any

import pytest
from reflex.state import BaseState, State
from reflex_base import constants
from reflex_base.event import Event

from jobs.auth.session import SESSION_COOKIE
from models.db import session_scope
from models.queries import tenancy
from state.base import AppState, SessionGuard
from state.drift_detail import DriftDetailState
from state.graph import GraphState
from state.jobs_control import JobsControlState
from state.policy_detail import PolicyDetailState
from state.tokens import TokensState
from state.users import UsersState
from tests.security.conftest import MARKER, Seeded

pytestmark = pytest.mark.integration


async def _cookie(tenant: Seeded, role: str) -> str:
    async with session_scope() as session:
        return await tenancy.create_session(session, tenant_id=tenant.tenant_id, user_id=tenant.users[role],
                                            idle_minutes=30)


def _open_tab() -> State:
    root = State(_reflex_internal_init=True)
    root.router_data = root._update_router_vars({constants.RouteVar.CLIENT_TOKEN: "shared-tab",
                                                 constants.RouteVar.HEADERS: {}}, {})
    return root


def _browse(root: State, cookie: str, path: str) -> None:
    """The tab connects (again) with this cookie on this page, as after a full navigation."""
    headers = {"cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}
    root.router_data = root._update_router_vars(
        {constants.RouteVar.HEADERS: headers, constants.RouteVar.PATH: path}, root.router_data)


async def _run(root: State, cls: type[BaseState], name: str, *args: Any) -> Any:
    out = cls.event_handlers[name].fn(await root.get_state(cls), *args)
    return await out if inspect.isawaitable(out) else out


async def _sign_in(root: State, cookie: str, path: str = "/overview") -> None:
    _browse(root, cookie, path)
    await _run(root, AppState, "check_session")


def _downloaded(answer: Any) -> str:
    """The text a handler's answer makes the browser save ('' when it is no download)."""
    url = next((value._var_value for name, value in getattr(answer, "args", ()) if str(name) == "url"), "")
    return base64.b64decode(url.split(",", 1)[1]).decode() if str(url).startswith("data:") else ""


def _tab_text(root: BaseState) -> str:
    """Every var of every state in the tab, backend-only ones included, as text."""
    parts, stack = [], [root]
    while stack:
        state = stack.pop()
        parts += [f"{name}={getattr(state, name)!r}" for name in type(state).get_fields()
                  if not name.startswith("rx_router") and name != "router_data"]
        stack.extend(state.substates.values())
    return "\n".join(parts)


async def _load_alpha_everywhere(root: State, alpha: Seeded) -> list[str]:
    """As alpha's admin: open a drift event, a policy, a job run and the graph; create a token and an
    invitation (shown once). Returns the secrets the tab now shows."""
    await _run(root, DriftDetailState, "open_event", alpha.ids["event"])
    await _run(root, PolicyDetailState, "open_policy", alpha.ids["policy"])
    await _run(root, JobsControlState, "open_run", alpha.ids["job"])
    await _run(root, GraphState, "load")
    await _run(root, TokensState, "create_token", {"name": f"{MARKER}-collector", "role": "viewer"})
    await _run(root, UsersState, "create_user", {"email": f"new@{MARKER}.test", "role": "viewer"})
    secrets = [(await root.get_state(TokensState)).new_secret, (await root.get_state(UsersState)).new_link]
    text = _tab_text(root)
    # The tab holds alpha's data now, or this test would prove nothing.
    assert MARKER in text and all(s and s in text for s in secrets)
    assert (await root.get_state(GraphState))._is_open
    return secrets


def _assert_nothing_of(root: State, secrets: list[str]) -> None:
    text = _tab_text(root)
    leaked = [line for line in text.splitlines() if MARKER in line or any(s in line for s in secrets)]
    assert not leaked, "the tab still holds the previous identity's data:\n" + "\n".join(leaked)[:2000]


async def test_sign_out_then_another_tenant_in_the_same_tab_sees_nothing_of_the_first(
    two_tenants: tuple[Seeded, Seeded],
) -> None:
    alpha, bravo = two_tenants
    root = _open_tab()
    await _sign_in(root, await _cookie(alpha, "admin"))
    secrets = await _load_alpha_everywhere(root, alpha)

    await _run(root, AppState, "sign_out")
    _assert_nothing_of(root, secrets)
    # A signed-out tab downloads nothing: it is sent to the login page instead.
    answer = await _run(root, GraphState, "download_json")
    assert _downloaded(answer) == "" and "/login" in repr(answer)

    await _sign_in(root, await _cookie(bravo, "admin"), "/graph")
    for cls, name in ((GraphState, "load"), (TokensState, "load_tokens"), (UsersState, "load")):
        await _run(root, cls, name)
    _assert_nothing_of(root, secrets)
    graph = _downloaded(await _run(root, GraphState, "download_json"))
    assert "bravo/db" in graph and MARKER not in graph


async def test_another_user_signing_in_without_a_sign_out_gets_a_clean_tab(
    two_tenants: tuple[Seeded, Seeded],
) -> None:
    alpha, bravo = two_tenants
    root = _open_tab()
    await _sign_in(root, await _cookie(alpha, "admin"))
    secrets = await _load_alpha_everywhere(root, alpha)
    # Alpha's session ends elsewhere (another tab, the HTTP logout) and bravo signs in: the cookie changes.
    await _sign_in(root, await _cookie(bravo, "viewer"))
    assert (await root.get_state(AppState))._tenant_id == bravo.tenant_id
    _assert_nothing_of(root, secrets)


async def test_a_session_that_expires_between_clicks_leaves_nothing_behind(
    two_tenants: tuple[Seeded, Seeded],
) -> None:
    alpha, _ = two_tenants
    root = _open_tab()
    cookie = await _cookie(alpha, "admin")
    await _sign_in(root, cookie)
    secrets = await _load_alpha_everywhere(root, alpha)
    async with session_scope() as session:
        await tenancy.delete_session(session, cookie_value=cookie)
    update = await SessionGuard().preprocess(None, root, Event(name=f"{GraphState.get_full_name()}.load"))
    assert update is not None and "/login?error=ended" in str(update.events)
    _assert_nothing_of(root, secrets)


async def test_a_lowered_role_drops_what_the_higher_one_loaded(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    root = _open_tab()
    await _sign_in(root, await _cookie(alpha, "admin"))
    secrets = await _load_alpha_everywhere(root, alpha)
    async with session_scope() as session:
        # The tenant keeps an admin: the approver becomes one before the admin is lowered.
        await tenancy.set_user_role(session, tenant_id=alpha.tenant_id, user_id=alpha.users["approver"],
                                    role="admin")
        await tenancy.set_user_role(session, tenant_id=alpha.tenant_id, user_id=alpha.users["admin"],
                                    role="viewer")
    assert await SessionGuard().preprocess(None, root, Event(name=f"{GraphState.get_full_name()}.load")) is None
    assert (await root.get_state(AppState))._role == "viewer"
    assert (await root.get_state(TokensState)).new_secret == "" and secrets[0] not in _tab_text(root)
    assert (await root.get_state(UsersState)).new_link == ""
