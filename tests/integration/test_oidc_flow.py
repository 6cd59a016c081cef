"""Single sign-on against the real OpenID Provider (npm oidc-provider) on loopback, over real PostgreSQL and Redis.

The provider's login form is driven with httpx here; tests/e2e/test_oidc.py drives it in Chromium.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from dashboard.api.app import build_api
from jobs.auth.oidc_client import discovery_url, pending_login_key
from jobs.auth.oidc_token import IdTokenError, validate_id_token
from jobs.runtime.connections import get_redis
from models.db import session_scope
from models.queries import tenancy
from models.queries.audit import list_audit
from models.settings import get_settings
from models.tenancy import User
from tests.apprunner import free_port
from tests.builders import make_tenant
from tests.oidc.launcher import CLIENT_ID, OidcProvider, running_provider

pytestmark = pytest.mark.integration

APP = "http://sg.test"
CALLBACK = f"{APP}/auth/oidc/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with running_provider(port=free_port(), redirect_uri=CALLBACK,
                          post_logout_redirect_uri=f"{APP}/login?error=logged_out", log_path=log) as running:
        yield running


@pytest.fixture
async def app(app_ctx: str, provider: OidcProvider, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    for name, value in {**provider.env(), "SG_PUBLIC_URL": APP}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    transport = httpx.ASGITransport(app=build_api())
    async with httpx.AsyncClient(transport=transport, base_url=APP) as client:
        yield client
    get_settings.cache_clear()


@pytest.fixture
async def idp() -> AsyncIterator[httpx.AsyncClient]:
    """The browser's side at the provider (its own cookie jar)."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def sign_in_at_provider(idp: httpx.AsyncClient, authorize_url: str, login: str) -> str:
    """Fill the provider's login form as `login`; the URL it sends the browser back to."""
    answer = await idp.get(authorize_url)
    if "/interaction/" in answer.headers.get("location", ""):
        form = await idp.get(str(answer.url.join(answer.headers["location"])))
        action = re.search(r'action="([^"]+)"', form.text)
        assert action, form.text[:500]
        answer = await idp.post(str(form.url.join(action.group(1))),
                                data={"prompt": "login", "login": login, "password": "any-password"})
        answer = await idp.get(answer.headers["location"])
    location = answer.headers["location"]
    assert location.startswith(CALLBACK), location
    return location


async def start(app: httpx.AsyncClient, next_path: str = "/drift") -> str:
    answer = await app.get("/auth/oidc/login", params={"next": next_path})
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


async def sso_login(app: httpx.AsyncClient, idp: httpx.AsyncClient, login: str) -> httpx.Response:
    callback = await sign_in_at_provider(idp, await start(app), login)
    return await app.get(callback.removeprefix(APP))


async def session_user(app: httpx.AsyncClient) -> User | None:
    async with session_scope() as session:
        found = await tenancy.resolve_session(session, cookie_value=app.cookies.get("sg_session", ""),
                                              idle_minutes=60)
    return found[0] if found else None


async def test_sso_login_creates_the_user_in_the_claimed_tenant_with_the_mapped_role(
    app: httpx.AsyncClient, idp: httpx.AsyncClient,
) -> None:
    alpha, bravo = await make_tenant("alpha"), await make_tenant("bravo")
    answer = await sso_login(app, idp, "ana@alpha")
    assert answer.status_code == 303 and answer.headers["location"] == "/drift"
    cookie_header = ";".join(answer.headers.get_list("set-cookie"))
    assert "sg_session=" in cookie_header and "HttpOnly" in cookie_header and "SameSite=lax" in cookie_header
    user = await session_user(app)
    assert user is not None
    assert (user.email, user.tenant_id, user.role, user.oidc_subject) == (
        "ana@alpha.example", alpha.tenant_id, "approver", "ana@alpha")
    assert user.password_hash is None
    async with session_scope() as session:
        actions = [e.action for e in await list_audit(session, tenant_id=alpha.tenant_id)]
        assert actions[:2] == ["login", "user.create"]
        assert await list_audit(session, tenant_id=bravo.tenant_id) == []


async def test_a_bravo_user_lands_in_bravo(app: httpx.AsyncClient, idp: httpx.AsyncClient) -> None:
    alpha, bravo = await make_tenant("alpha"), await make_tenant("bravo")
    assert (await sso_login(app, idp, "bob@bravo")).status_code == 303
    user = await session_user(app)
    assert user is not None and (user.tenant_id, user.role) == (bravo.tenant_id, "analyst")
    async with session_scope() as session:
        assert all(u.tenant_id == alpha.tenant_id for u in await tenancy.list_users(session, tenant_id=alpha.tenant_id))
        assert "bob@bravo.example" not in [u.email for u in await tenancy.list_users(session, tenant_id=alpha.tenant_id)]


async def test_later_logins_apply_the_role_from_the_claims(app: httpx.AsyncClient, idp: httpx.AsyncClient) -> None:
    alpha = await make_tenant("alpha")
    async with session_scope() as session:
        user = await tenancy.create_user(session, tenant_id=alpha.tenant_id, email="adam@alpha.example",
                                         role="viewer", password=None)
        user.oidc_subject = "adam@alpha"
        session.add(user)
    assert (await sso_login(app, idp, "adam@alpha")).status_code == 303
    signed_in = await session_user(app)
    assert signed_in is not None and signed_in.role == "admin"
    async with session_scope() as session:
        change = (await list_audit(session, tenant_id=alpha.tenant_id, action="user.role"))[0]
    assert (change.before, change.after["role"]) == ({"role": "viewer"}, "admin")


async def test_an_unknown_tenant_is_refused_and_creates_nobody(app: httpx.AsyncClient, idp: httpx.AsyncClient) -> None:
    alpha = await make_tenant("alpha")
    answer = await sso_login(app, idp, "zoe@zulu")
    assert answer.status_code == 403
    assert "no SecureGuard tenant named &#x27;zulu&#x27;" in answer.text and "Traceback" not in answer.text
    assert "sg_session" not in app.cookies
    async with session_scope() as session:
        assert await tenancy.find_user_by_email(session, email="zoe@zulu.example") is None
        assert [u.email for u in await tenancy.list_users(session, tenant_id=alpha.tenant_id)] == ["admin@alpha.test"]


async def test_a_user_without_a_mapped_group_is_refused(app: httpx.AsyncClient, idp: httpx.AsyncClient) -> None:
    await make_tenant("alpha")
    answer = await sso_login(app, idp, "vic@alpha")
    assert answer.status_code == 403 and "grants a SecureGuard role" in answer.text
    async with session_scope() as session:
        assert await tenancy.find_user_by_email(session, email="vic@alpha.example") is None


async def test_a_disabled_user_is_refused_and_the_refusal_is_audited(
    app: httpx.AsyncClient, idp: httpx.AsyncClient,
) -> None:
    alpha = await make_tenant("alpha")
    assert (await sso_login(app, idp, "ana@alpha")).status_code == 303
    async with session_scope() as session:
        user = await tenancy.find_user_by_email(session, email="ana@alpha.example")
        assert user is not None
        user.disabled = True
        session.add(user)
    app.cookies.clear()
    idp.cookies.clear()
    answer = await sso_login(app, idp, "ana@alpha")
    assert answer.status_code == 403 and "disabled" in answer.text
    assert "sg_session" not in app.cookies
    async with session_scope() as session:
        failure = (await list_audit(session, tenant_id=alpha.tenant_id, action="login.failed"))[0]
    assert failure.after["method"] == "sso"


async def test_a_tampered_state_is_refused_and_the_genuine_answer_still_works(
    app: httpx.AsyncClient, idp: httpx.AsyncClient,
) -> None:
    await make_tenant("alpha")
    callback = await sign_in_at_provider(idp, await start(app), "ana@alpha")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    answer = await app.get(callback.replace(f"state={state}", f"state={state[:-2]}xx").removeprefix(APP))
    assert answer.status_code == 400 and "id=sso-error" in answer.text
    assert "sg_session" not in app.cookies
    assert (await app.get(callback.removeprefix(APP))).status_code == 303
    assert await session_user(app) is not None


async def test_an_answer_replayed_or_taken_to_another_browser_is_refused(
    app: httpx.AsyncClient, idp: httpx.AsyncClient,
) -> None:
    await make_tenant("alpha")
    callback = await sign_in_at_provider(idp, await start(app), "ana@alpha")
    binding = app.cookies.get("sg_oidc_login", path="/auth/oidc")
    assert binding
    # Planted on a browser that did not start this sign-in (login CSRF): no binding cookie, refused.
    app.cookies.delete("sg_oidc_login", path="/auth/oidc")
    assert (await app.get(callback.removeprefix(APP))).status_code == 400
    assert "sg_session" not in app.cookies
    # The state is single-use: even with the binding back, the same answer does not work twice.
    app.cookies.set("sg_oidc_login", binding, domain="sg.test", path="/auth/oidc")
    assert (await app.get(callback.removeprefix(APP))).status_code == 400
    assert "sg_session" not in app.cookies


async def test_a_replayed_authorization_code_is_refused(app: httpx.AsyncClient, idp: httpx.AsyncClient) -> None:
    await make_tenant("alpha")
    first = await sign_in_at_provider(idp, await start(app), "ana@alpha")
    assert (await app.get(first.removeprefix(APP))).status_code == 303
    app.cookies.clear()
    # A fresh, valid state from a new start, carrying the code that was already redeemed.
    second = await sign_in_at_provider(idp, await start(app), "ana@alpha")
    used_code = parse_qs(urlsplit(first).query)["code"][0]
    fresh_code = parse_qs(urlsplit(second).query)["code"][0]
    answer = await app.get(second.replace(fresh_code, used_code).removeprefix(APP))
    assert answer.status_code == 502 and "refused the authorization code (invalid_grant)" in answer.text
    assert "sg_session" not in app.cookies


async def test_a_provider_error_answer_is_shown_plainly(app: httpx.AsyncClient) -> None:
    location = await start(app)
    state = parse_qs(urlsplit(location).query)["state"][0]
    answer = await app.get("/auth/oidc/callback", params={"state": state, "error": "access_denied"})
    assert answer.status_code == 403 and "access_denied" in answer.text


async def test_an_id_token_the_provider_issued_to_another_client_is_refused(
    provider: OidcProvider, idp: httpx.AsyncClient,
) -> None:
    verifier = "v" * 64
    params = {"client_id": "other-app", "response_type": "code", "redirect_uri": "http://127.0.0.1:9/other/callback",
              "scope": "openid email", "state": "s" * 20, "nonce": "nonce-for-other",
              "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    authorize = str(httpx.URL(f"{provider.issuer}/auth", params=params))
    answer = await idp.get(authorize)
    form = await idp.get(str(answer.url.join(answer.headers["location"])))
    action = re.search(r'action="([^"]+)"', form.text)
    assert action
    answer = await idp.post(str(form.url.join(action.group(1))), data={"prompt": "login", "login": "ana@alpha", "password": "x"})
    answer = await idp.get(answer.headers["location"])
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    tokens = (await idp.post(f"{provider.issuer}/token", auth=("other-app", "other-app-client-secret-0123456789"), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": params["redirect_uri"], "code_verifier": verifier,
    })).json()
    jwks = (await idp.get((await idp.get(discovery_url(provider.issuer))).json()["jwks_uri"])).json()
    # Genuine, signed by the provider, right nonce: valid for other-app …
    assert validate_id_token(tokens["id_token"], jwks=jwks, issuer=provider.issuer, client_id="other-app",
                             nonce="nonce-for-other")["sub"] == "ana@alpha"
    # … and refused by SecureGuard, whose client id is not its audience.
    with pytest.raises(IdTokenError, match="another client"):
        validate_id_token(tokens["id_token"], jwks=jwks, issuer=provider.issuer, client_id=CLIENT_ID,
                          nonce="nonce-for-other")


async def test_logout_ends_the_session_then_goes_to_the_provider(app: httpx.AsyncClient, idp: httpx.AsyncClient,
                                                                 provider: OidcProvider) -> None:
    alpha = await make_tenant("alpha")
    assert (await sso_login(app, idp, "ana@alpha")).status_code == 303
    cookie = app.cookies.get("sg_session", "")
    refused = await app.get("/auth/logout")
    assert refused.status_code == 405
    # Sign-out is a form POST that ends at the provider: the page policy lets forms go there, and only there.
    form_action = next(d for d in refused.headers["content-security-policy"].split("; ") if d.startswith("form-action"))
    assert form_action == f"form-action 'self' {provider.issuer.rstrip('/')}"
    answer = await app.post("/auth/logout")
    assert answer.status_code == 303
    target = answer.headers["location"]
    assert target.startswith(f"{provider.issuer}/session/end?client_id={CLIENT_ID}&")
    assert parse_qs(urlsplit(target).query)["post_logout_redirect_uri"] == [f"{APP}/login?error=logged_out"]
    async with session_scope() as session:
        assert await tenancy.resolve_session(session, cookie_value=cookie, idle_minutes=60) is None
        assert (await list_audit(session, tenant_id=alpha.tenant_id))[0].action == "logout"
    # The provider accepts the request (it asks the user to confirm the sign-out).
    assert (await idp.get(target)).status_code == 200


async def test_sso_routes_say_when_sso_is_off(app_ctx: str) -> None:
    get_settings.cache_clear()
    transport = httpx.ASGITransport(app=build_api())
    async with httpx.AsyncClient(transport=transport, base_url=APP) as client:
        answer = await client.get("/auth/oidc/login")
        assert answer.status_code == 404 and "not configured" in answer.text
        assert (await client.post("/auth/oidc/logout")).headers["location"] == "/login?error=logged_out"


async def test_sso_starts_are_limited_per_address_so_nobody_fills_redis_with_pending_logins(
    app: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SG_SSO_STARTS_PER_MINUTE", "5")
    get_settings.cache_clear()
    redis = get_redis()
    before = len(await redis.keys(pending_login_key("*")))
    answers = [await app.get("/auth/oidc/login") for _ in range(12)]
    assert [a.status_code for a in answers[:5]] == [303] * 5
    refused = answers[5:]
    assert {a.status_code for a in refused} == {429}
    assert int(refused[0].headers["retry-after"]) > 0 and "Too many sign-in attempts" in refused[0].text
    assert len(await redis.keys(pending_login_key("*"))) - before == 5
    # another address is not held back by this one
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_api(), client=("198.51.100.7", 4000)),
                              base_url=APP)
    async with other:
        assert (await other.get("/auth/oidc/login")).status_code == 303
