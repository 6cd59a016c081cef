"""Throttling refuses failures, not addresses: valid tokens and known browsers (device cookies) keep working behind
a guesser's address or a locked account; each password check is reserved before it runs; X-Forwarded-For counts
only from trusted proxies."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from reflex.state import State
from reflex_base import constants

import models.queries.tenancy as tenancy_queries
from dashboard.api.app import build_api
from jobs.auth import ratelimit
from models.db import session_scope
from models.queries.audit import list_audit
from models.settings import Settings, get_settings
from state.login import LoginState
from tests.security.browser import cookie_header, sign_in, web_client
from tests.security.conftest import Seeded

pytestmark = pytest.mark.integration
GOOD_PASSWORD = "correct-horse-1"


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    ratelimit._redis_skip_until, ratelimit._redis_down = 0.0, False
    ratelimit._memory._logs.clear()
    monkeypatch.setattr("state.login.FAILURE_DELAY_SECONDS", 0)


def _client(peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_api(), client=(peer, 4444))
    return httpx.AsyncClient(transport=transport, base_url="http://sg.test")


async def _login(email: str, password: str, *, peer: str, headers: dict[str, str] | None = None) -> LoginState:
    root = State(_reflex_internal_init=True)
    root.router_data = root._update_router_vars(
        {constants.RouteVar.CLIENT_IP: peer,
         constants.RouteVar.HEADERS: {"cookie": "sg_login_nonce=nonce-of-this-browser", **(headers or {})}}, {})
    state = await root.get_state(LoginState)
    await LoginState.event_handlers["login"].fn(state, {"email": email, "password": password})
    return state


async def test_a_bad_token_flood_does_not_lock_out_valid_tokens_from_the_same_address(
    two_tenants: tuple[Seeded, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SG_TOKEN_AUTH_MAX_FAILURES", "3")
    get_settings.cache_clear()
    alpha, _ = two_tenants
    async with _client("192.0.2.10") as client:
        flood = [(await client.get("/api/v1/jobs", headers={"Authorization": f"Bearer sg_bad{i}"})).status_code
                 for i in range(6)]
        assert flood[:3] == [401, 401, 401] and set(flood[3:]) == {429}
        good = await client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {alpha.tokens['viewer']}"})
    assert good.status_code == 200, "a valid token behind a guesser's address must keep working"


async def test_parallel_wrong_passwords_are_verified_at_most_the_limit(
    two_tenants: tuple[Seeded, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, _ = two_tenants
    limit, verified = get_settings().login_max_failures, []
    real_verify = tenancy_queries.verify_password

    def counting_verify(password: str, stored: str | None) -> bool:
        verified.append(password)
        return real_verify(password, stored)

    monkeypatch.setattr(tenancy_queries, "verify_password", counting_verify)
    email = alpha.email("analyst")
    states = await asyncio.gather(*[_login(email, f"guess-{i}", peer=f"198.51.100.{i}") for i in range(4 * limit)])
    assert len(verified) <= limit, f"{len(verified)} guesses were checked in parallel, the limit is {limit}"
    assert sum(s.message == "Wrong email or password." for s in states) == len(verified)
    assert all(s.is_error for s in states)


async def test_forwarded_for_counts_only_from_a_trusted_proxy(
    two_tenants: tuple[Seeded, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SG_TOKEN_AUTH_MAX_FAILURES", "2")
    get_settings.cache_clear()

    async def bad_token(client: httpx.AsyncClient, forwarded: str) -> int:
        answer = await client.get("/api/v1/jobs", headers={"Authorization": "Bearer sg_nope",
                                                          "X-Forwarded-For": forwarded})
        return answer.status_code

    with pytest.raises(ValueError, match="not an address or CIDR"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.example")
    # An untrusted peer names any address it likes: ignored, every failure is the peer's own.
    async with _client("192.0.2.20") as client:
        assert [await bad_token(client, f"203.0.113.{i}") for i in range(3)] == [401, 401, 429]
    monkeypatch.setenv("SG_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.30")
    get_settings.cache_clear()
    # Behind a trusted proxy each client has its own budget; the proxy's own address is never blamed.
    async with _client("192.0.2.30") as proxy:
        assert [await bad_token(proxy, "203.0.113.50, 10.1.2.3") for _ in range(3)] == [401, 401, 429]
        assert await bad_token(proxy, "203.0.113.51") == 401
        # A forged left-most hop is not believed: the right-most untrusted hop is the client.
        assert await bad_token(proxy, "203.0.113.51, 203.0.113.50") == 429


async def test_the_login_form_reads_the_client_behind_a_trusted_proxy_only(
    two_tenants: tuple[Seeded, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SG_TRUSTED_PROXIES", "10.0.0.7")
    get_settings.cache_clear()
    alpha, _ = two_tenants
    await _login(alpha.email("viewer"), "wrong", peer="10.0.0.7", headers={"x-forwarded-for": "203.0.113.9"})
    await _login(alpha.email("viewer"), "wrong", peer="10.0.0.8", headers={"x-forwarded-for": "203.0.113.9"})
    async with session_scope() as session:
        addresses = [e.client_ip for e in await list_audit(session, tenant_id=alpha.tenant_id)
                     if e.action == "login.failed"]
    assert sorted(addresses) == ["10.0.0.8", "203.0.113.9"]


async def _known_browser(tenant: Seeded, role: str, peer: str) -> str:
    """Sign in through the real form and cookie route; answers the Cookie header the browser then sends."""
    async with web_client(peer) as browser:
        answer = await sign_in(browser, tenant.email(role), peer=peer)
        assert answer.status_code == 303 and answer.cookies["sg_device"]
        device = answer.headers.get_list("set-cookie")
        assert any(c.startswith("sg_device=") and "httponly" in c.lower() for c in device)
        return cookie_header(browser)


async def test_a_locked_account_still_lets_its_owner_in_from_a_known_browser(
    two_tenants: tuple[Seeded, Seeded]
) -> None:
    alpha, _ = two_tenants
    email, limit = alpha.email("approver"), get_settings().login_max_failures
    known = await _known_browser(alpha, "approver", "192.0.2.40")
    for i in range(limit):  # a guesser elsewhere uses up the account's budget
        await _login(email, f"guess-{i}", peer="198.51.100.77")
    stranger = await _login(email, GOOD_PASSWORD, peer="192.0.2.41")
    assert stranger.message.startswith("Too many failed sign-in attempts")
    owner = await _login(email, GOOD_PASSWORD, peer="192.0.2.41", headers={"cookie": known})
    assert owner.message == "Signing in…"
    # The owner's sign-in does not forgive the guesser: strangers stay locked out.
    assert (await _login(email, GOOD_PASSWORD, peer="198.51.100.77")).message.startswith("Too many failed")
    # The known browser has a budget of its own: guessing with it stops at the limit too.
    for i in range(limit):
        assert (await _login(email, f"guess-{i}", peer="192.0.2.41", headers={"cookie": known})).message == \
            "Wrong email or password."
    locked = await _login(email, GOOD_PASSWORD, peer="192.0.2.41", headers={"cookie": known})
    assert locked.message.startswith("Too many failed sign-in attempts")


async def test_a_device_cookie_vouches_only_for_its_own_account(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    limit = get_settings().login_max_failures
    known = await _known_browser(alpha, "viewer", "192.0.2.50")
    for i in range(limit):
        await _login(alpha.email("admin"), f"guess-{i}", peer="198.51.100.78")
    other = await _login(alpha.email("admin"), GOOD_PASSWORD, peer="192.0.2.50", headers={"cookie": known})
    assert other.message.startswith("Too many failed sign-in attempts")
    forged = await _login(alpha.email("admin"), GOOD_PASSWORD, peer="192.0.2.50",
                          headers={"cookie": "sg_login_nonce=n; sg_device=sg_abc.0123456789abcdef"})
    assert forged.message.startswith("Too many failed sign-in attempts")


async def test_a_spraying_neighbour_does_not_lock_out_known_browsers_at_the_same_address(
    two_tenants: tuple[Seeded, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, _ = two_tenants
    known = await _known_browser(alpha, "admin", "192.0.2.60")
    monkeypatch.setenv("SG_LOGIN_MAX_FAILURES", "1")
    get_settings.cache_clear()
    for i in range(10):  # the address's budget (10 × 1), spent on accounts nobody has
        await _login(f"user{i}@nowhere.test", "wrong-password", peer="192.0.2.60")
    stranger = await _login(alpha.email("viewer"), GOOD_PASSWORD, peer="192.0.2.60")
    assert stranger.message.startswith("Too many failed sign-in attempts")
    owner = await _login(alpha.email("admin"), GOOD_PASSWORD, peer="192.0.2.60", headers={"cookie": known})
    assert owner.message == "Signing in…"


async def test_a_refusal_that_arrives_before_the_pages_on_load_stays_shown(two_tenants: tuple[Seeded, Seeded]) -> None:
    """A submit queued while the socket connected can be handled before the page's on_load; the load used to wipe
    its answer, so the first wrong password showed nothing (two e2e tests failed on a loaded CI machine)."""
    alpha, _ = two_tenants
    state = await _login(alpha.email("viewer"), "not-the-password", peer="192.0.2.40")
    assert state.message == "Wrong email or password." and state.is_error
    LoginState.event_handlers["load"].fn(state)
    assert state.message == "Wrong email or password." and state.is_error
    LoginState.event_handlers["load"].fn(state)  # a later visit starts clean
    assert state.message == "" and not state.is_error
