"""Login CSRF: a login ticket is bound to the browser that asked for it (its login-nonce cookie) and redeemed
only by POST, so a ticket for the attacker's account cannot sign a victim's browser in."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from reflex.state import State
from reflex_base import constants
from sqlmodel import select

from jobs.auth import ratelimit
from models.db import session_scope
from models.tenancy import UserSession
from state.login import LoginState
from tests.security.browser import PASSWORD, cookie_header, submit_login, ticket_form, web_client
from tests.security.conftest import Seeded

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    ratelimit._redis_skip_until, ratelimit._redis_down = 0.0, False
    ratelimit._memory._logs.clear()


async def _sign_in_form(browser: httpx.AsyncClient, email: str) -> dict[str, str]:
    """The browser opens the login page, sends the form over its websocket; answers what the page would post."""
    page = await browser.get("/login?next=/jobs")  # the page's answer hands out the login nonce
    assert page.status_code in (200, 404)
    state, result = await submit_login(email, PASSWORD, peer="192.0.2.1", next_path="/jobs",
                                       headers={"cookie": cookie_header(browser)})
    assert state.message == "Signing in…", state.message
    return ticket_form(result, "/jobs")


async def _sessions_of(user_id: int) -> int:
    async with session_scope() as session:
        return len((await session.exec(select(UserSession).where(UserSession.user_id == user_id))).all())


async def test_a_ticket_replayed_from_another_browser_sets_no_session(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    async with web_client("192.0.2.66") as attacker, web_client("192.0.2.77") as victim:
        form = await _sign_in_form(attacker, alpha.email("viewer"))  # the attacker's own account
        # The link the attacker sends: a GET no longer opens a session at all.
        link = await victim.get("/auth/session", params=form)
        assert "sg_session" not in link.cookies
        assert link.status_code == 405
        # Nor does an auto-submitting form on the attacker's page: the victim's browser has no matching nonce.
        await victim.get("/login")  # the victim has a nonce of their own
        posted = await victim.post("/auth/session", data=form)
        assert "sg_session" not in posted.cookies
        assert posted.status_code == 303 and posted.headers["location"] == "/login?error=expired"
    assert await _sessions_of(alpha.users["viewer"]) == 0


async def test_a_ticket_without_any_nonce_cookie_is_refused_and_used_up(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    async with web_client("192.0.2.66") as browser, web_client("192.0.2.88") as stranger:
        form = await _sign_in_form(browser, alpha.email("analyst"))
        refused = await stranger.post("/auth/session", data=form)
        assert refused.headers["location"] == "/login?error=expired" and "sg_session" not in refused.cookies
        # The refused try used the ticket up: not even its own browser can redeem it now.
        late = await browser.post("/auth/session", data=form)
        assert late.headers["location"] == "/login?error=expired" and "sg_session" not in late.cookies
    assert await _sessions_of(alpha.users["analyst"]) == 0


async def test_the_browser_that_asked_signs_in_by_post_and_gets_a_new_nonce(
    two_tenants: tuple[Seeded, Seeded]
) -> None:
    alpha, _ = two_tenants
    async with web_client("192.0.2.99") as browser:
        form = await _sign_in_form(browser, alpha.email("admin"))
        nonce = browser.cookies["sg_login_nonce"]
        answer = await browser.post("/auth/session", data=form)
        assert answer.status_code == 303 and answer.headers["location"] == "/jobs"
        assert answer.cookies["sg_session"]
        set_cookies: Any = answer.headers.get_list("set-cookie")
        nonce_cookie = next(c.lower() for c in set_cookies if c.startswith("sg_login_nonce="))
        assert "httponly" in nonce_cookie and "samesite=lax" in nonce_cookie
        assert browser.cookies["sg_login_nonce"] != nonce, "a nonce serves one sign-in"
        assert (await browser.post("/auth/session", data=form)).headers["location"] == "/login?error=expired"
    assert await _sessions_of(alpha.users["admin"]) == 1


async def test_a_login_form_without_a_nonce_cookie_checks_no_password(
    two_tenants: tuple[Seeded, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, _ = two_tenants
    checked: list[str] = []
    monkeypatch.setattr("models.queries.tenancy.verify_password", lambda password, stored: checked.append(password))
    root = State(_reflex_internal_init=True)
    root.router_data = root._update_router_vars({constants.RouteVar.CLIENT_IP: "192.0.2.5",
                                                 constants.RouteVar.HEADERS: {}}, {})
    state = await root.get_state(LoginState)
    result = await LoginState.event_handlers["login"].fn(state, {"email": alpha.email("admin"),
                                                                 "password": "correct-horse-1"})
    assert result is None and state.is_error and "allow cookies" in state.message
    assert checked == []
