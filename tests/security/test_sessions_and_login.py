"""Login throttling and audit, session rotation, idle expiry and sign-out everywhere, API token last use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from reflex.state import State
from reflex_base import constants
from reflex_base.event import Event
from sqlmodel import select

from jobs.auth.tickets import issue_ticket
from jobs.runtime.connections import get_redis
from models.credentials import hash_secret
from models.db import session_scope
from models.queries import tenancy
from models.queries.audit import list_audit
from models.settings import get_settings
from models.tenancy import ApiToken, UserSession
from models.types import utcnow
from state.base import AppState, SessionGuard
from state.login import LoginState
from state.users import UsersState
from tests.security.conftest import Seeded

pytestmark = pytest.mark.integration


def _tab(router_data: dict[str, Any]) -> State:
    """A state tree as the websocket handshake of one tab leaves it (router data as Reflex sets it)."""
    root = State(_reflex_internal_init=True)
    root.router_data = root._update_router_vars(router_data, {})
    return root


async def _login(email: str, password: str, client_ip: str = "10.1.1.1") -> LoginState:
    root = _tab({constants.RouteVar.CLIENT_IP: client_ip,
                 constants.RouteVar.HEADERS: {"cookie": "sg_login_nonce=nonce-of-this-browser"}})
    state = await root.get_state(LoginState)
    await LoginState.event_handlers["login"].fn(state, {"email": email, "password": password})
    return state


async def test_the_n_plus_first_login_attempt_is_refused_with_the_wait(
    two_tenants: tuple[Seeded, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("state.login.FAILURE_DELAY_SECONDS", 0)
    alpha, _ = two_tenants
    email, limit = alpha.email("analyst"), get_settings().login_max_failures
    for _ in range(limit):
        assert (await _login(email, "wrong-password")).message == "Wrong email or password."
    locked = await _login(email, "correct-horse-1")  # the right password does not get through either
    assert locked.is_error and locked.message.startswith("Too many failed sign-in attempts. Try again in ")
    assert "min" in locked.message or "second" in locked.message
    async with session_scope() as session:
        actions = [e.action for e in await list_audit(session, tenant_id=alpha.tenant_id)]
    assert actions.count("login.failed") == limit and actions.count("login.throttled") == 1
    # Another account from another address is not affected.
    assert (await _login(alpha.email("viewer"), "correct-horse-1", "10.2.2.2")).message == "Signing in…"


async def test_the_address_budget_stops_spraying_many_accounts(
    two_tenants: tuple[Seeded, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("state.login.FAILURE_DELAY_SECONDS", 0)
    monkeypatch.setenv("SG_LOGIN_MAX_FAILURES", "1")
    get_settings.cache_clear()
    for i in range(10):  # ten accounts, one failure each: the address's budget (10 × 1)
        await _login(f"user{i}@nowhere.test", "wrong-password", "10.3.3.3")
    alpha, _ = two_tenants
    refused = await _login(alpha.email("admin"), "correct-horse-1", "10.3.3.3")
    assert refused.message.startswith("Too many failed sign-in attempts")


@pytest.fixture
async def web(app_ctx: str) -> Any:
    from dashboard.api.app import build_api

    transport = httpx.ASGITransport(app=build_api(), client=("10.9.9.9", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://sg.test") as client:
        yield client


async def test_login_rotates_the_session_and_logout_is_audited(two_tenants: tuple[Seeded, Seeded],
                                                               web: httpx.AsyncClient) -> None:
    alpha, _ = two_tenants
    await web.get("/login")  # a page answer hands the browser its login nonce
    first = await web.post("/auth/session", data={"ticket": await issue_ticket(
        get_redis(), user_id=alpha.users["admin"], nonce=web.cookies["sg_login_nonce"])})
    old = first.cookies["sg_session"]
    set_cookie = first.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    web.cookies.set("sg_session", old)
    second = await web.post("/auth/session", data={"ticket": await issue_ticket(
        get_redis(), user_id=alpha.users["admin"], nonce=web.cookies["sg_login_nonce"])})
    new = second.cookies["sg_session"]
    assert new != old
    async with session_scope() as session:
        assert await session.get(UserSession, hash_secret(old)) is None, "the pre-existing session must end"
        assert await session.get(UserSession, hash_secret(new)) is not None
    web.cookies.set("sg_session", new)
    # A GET (a link or image on another site) ends nothing: logout is POST-only.
    assert (await web.get("/auth/logout")).status_code == 405
    async with session_scope() as session:
        assert await session.get(UserSession, hash_secret(new)) is not None
    await web.post("/auth/logout")
    async with session_scope() as session:
        assert await session.get(UserSession, hash_secret(new)) is None
        actions = [(e.action, e.client_ip) for e in await list_audit(session, tenant_id=alpha.tenant_id)]
    assert actions[:3] == [("logout", "10.9.9.9"), ("login", "10.9.9.9"), ("login", "10.9.9.9")]


async def _signed_in_tab(tenant: Seeded, role: str) -> tuple[State, str]:
    async with session_scope() as session:
        cookie = await tenancy.create_session(session, tenant_id=tenant.tenant_id, user_id=tenant.users[role],
                                              idle_minutes=30)
    root = _tab({constants.RouteVar.HEADERS: {"cookie": f"sg_session={cookie}"}})
    app_state = await root.get_state(AppState)
    app_state._user_id, app_state._tenant_id, app_state._role = tenant.users[role], tenant.tenant_id, role
    return root, cookie


def _event(name: str = "load") -> Event:
    return Event(name=f"{UsersState.get_full_name()}.{name}")


async def test_every_event_slides_the_session_and_an_idle_one_ends(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    root, cookie = await _signed_in_tab(alpha, "admin")
    guard = SessionGuard()
    async with session_scope() as session:
        row = await session.get(UserSession, hash_secret(cookie))
        assert row is not None
        row.expires_at = utcnow() + timedelta(seconds=30)
        session.add(row)
    assert await guard.preprocess(None, root, _event()) is None
    async with session_scope() as session:
        row = await session.get(UserSession, hash_secret(cookie))
        assert row is not None and row.expires_at > utcnow() + timedelta(minutes=get_settings().session_idle_minutes - 1)
        row.expires_at = utcnow() - timedelta(seconds=1)  # idle past the limit
        session.add(row)
    update = await guard.preprocess(None, root, _event())
    assert update is not None and "/login?error=ended" in str(update.events)
    app_state = await root.get_state(AppState)
    assert app_state._tenant_id == 0 and app_state._role == ""


async def test_disabling_a_user_signs_them_out_everywhere_and_role_changes_apply_at_once(
    two_tenants: tuple[Seeded, Seeded]
) -> None:
    alpha, _ = two_tenants
    analyst_tab, _ = await _signed_in_tab(alpha, "analyst")
    viewer_tab, _ = await _signed_in_tab(alpha, "viewer")
    guard = SessionGuard()
    async with session_scope() as session:
        await tenancy.set_user_role(session, tenant_id=alpha.tenant_id, user_id=alpha.users["viewer"], role="approver")
        await tenancy.set_user_disabled(session, tenant_id=alpha.tenant_id, user_id=alpha.users["analyst"],
                                        disabled=True)
        left = (await session.exec(select(UserSession).where(UserSession.user_id == alpha.users["analyst"]))).all()
    assert left == []
    assert await guard.preprocess(None, analyst_tab, _event()) is not None
    assert await guard.preprocess(None, viewer_tab, _event()) is None
    assert (await viewer_tab.get_state(AppState))._role == "approver"


async def test_session_handlers_are_not_guarded_and_anonymous_tabs_pass(two_tenants: tuple[Seeded, Seeded]) -> None:
    root = State(_reflex_internal_init=True)
    guard = SessionGuard()
    assert await guard.preprocess(None, root, _event()) is None  # no identity: the handler's own check refuses
    assert await guard.preprocess(None, root, Event(name=f"{AppState.get_full_name()}.check_session")) is None


async def test_api_tokens_are_hashed_and_stamped_with_their_last_use(
    two_tenants: tuple[Seeded, Seeded], api_client: httpx.AsyncClient
) -> None:
    alpha, _ = two_tenants
    async with session_scope() as session:
        token = await session.get(ApiToken, alpha.token_ids["viewer"])
        assert token is not None and token.last_used_at is None
        assert token.token_hash == hash_secret(alpha.tokens["viewer"]) and alpha.tokens["viewer"] not in token.token_hash
    response = await api_client.get("/api/v1/snapshots", headers={"Authorization": f"Bearer {alpha.tokens['viewer']}"})
    assert response.status_code == 200
    async with session_scope() as session:
        token = await session.get(ApiToken, alpha.token_ids["viewer"])
        assert token is not None and token.last_used_at is not None
