"""Single sign-on routes: start an OpenID Connect sign-in, take the provider's answer, log out.

A refused sign-in answers a short HTML page that says why in plain words; it never shows a token, a secret or a
stack trace, and no session or user is created.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from dashboard.api.deps import DbSession, client_address
from jobs.auth import oidc_client as op
from jobs.auth import ratelimit
from jobs.auth.oidc_claims import ClaimError, OidcIdentity, map_identity
from jobs.auth.oidc_token import IdTokenError, allowed_algorithms, token_header, validate_id_token
from jobs.auth.redirects import local_path
from jobs.auth.session import SESSION_COOKIE
from jobs.runtime.connections import get_redis
from models.credentials import hash_secret, new_secret
from models.errors import Conflict, Forbidden, NotFound
from models.queries import tenancy
from models.queries.audit import record_audit
from models.queries.oidc_users import provision_sso_user
from models.settings import Settings, get_settings
from models.tenancy import User

# Binds a started sign-in to the browser that started it, so a callback URL planted on someone else fails.
LOGIN_COOKIE = "sg_oidc_login"
LOGIN_COOKIE_PATH = "/auth/oidc"
log = logging.getLogger("secureguard.oidc")
router = APIRouter(prefix="/auth/oidc", include_in_schema=False)


class SsoRefused(Exception):
    """The sign-in stops here; `message` is shown to the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def refusal_page(status: int, message: str) -> HTMLResponse:
    """A plain page saying why single sign-on did not go through, with the way back."""
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Sign-in refused · SecureGuard</title></head>"
        "<body style='font-family:system-ui,sans-serif;max-width:36em;margin:4em auto'>"
        "<h1>Single sign-on did not go through</h1>"
        f"<p id=sso-error role=alert>{html.escape(message)}</p>"
        "<p><a id=back-to-login href='/login'>Back to sign in</a></p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _redirect_uri(settings: Settings) -> str:
    return f"{settings.base_url.rstrip('/')}/auth/oidc/callback"


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=op.HTTP_TIMEOUT_SECONDS, follow_redirects=False)


@router.get("/login")
async def start_login(request: Request, next: str = "/") -> Response:
    """Send the browser to the provider: Authorization Code with PKCE S256, a fresh state and nonce."""
    settings = get_settings()
    if not settings.oidc_enabled:
        return refusal_page(404, "Single sign-on is not configured on this server.")
    # Each start keeps a pending login in Redis for 10 minutes: without a budget one client could fill it.
    retry_after = await ratelimit.hit(get_redis(), ratelimit.sso_start_limit(settings), client_address(request))
    if retry_after:
        refused = refusal_page(429, f"Too many sign-in attempts from your address. Try again in {retry_after} s.")
        refused.headers["Retry-After"] = str(retry_after)
        return refused
    async with _http() as http:
        try:
            metadata = await op.get_metadata(http, issuer=settings.oidc_issuer)
        except op.ProviderError as exc:
            log.warning("SSO sign-in could not start: %s", exc)
            return refusal_page(502, "The identity provider cannot be reached right now. Try again later.")
    browser_secret = new_secret()
    state, pending = op.new_pending_login(next_path=local_path(next), browser_secret=browser_secret)
    await op.save_pending(get_redis(), state=state, pending=pending)
    url = op.authorization_url(metadata, client_id=settings.oidc_client_id, redirect_uri=_redirect_uri(settings),
                               scope=settings.oidc_scopes, state=state, pending=pending)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(LOGIN_COOKIE, browser_secret, httponly=True, samesite="lax", path=LOGIN_COOKIE_PATH,
                        secure=settings.base_url.startswith("https://"), max_age=op.PENDING_TTL_SECONDS)
    return response


async def _verified_claims(request: Request, settings: Settings, pending: op.PendingLogin) -> dict[str, Any]:
    """Exchange the code, validate the ID token, merge in userinfo; raise SsoRefused on any failure."""
    params = request.query_params
    if params.get("error"):
        raise SsoRefused(403, f"The identity provider refused the sign-in ({params['error'][:40]}).")
    # RFC 9207: an `iss` on the answer must be our provider's (mix-up defence).
    if "iss" in params and params["iss"] != settings.oidc_issuer:
        raise SsoRefused(400, "The sign-in answer came from another identity provider.")
    if not params.get("code"):
        raise SsoRefused(400, "The identity provider sent no authorization code.")
    async with _http() as http:
        try:
            metadata = await op.get_metadata(http, issuer=settings.oidc_issuer)
            tokens = await op.exchange_code(
                http, metadata=metadata, client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret.get_secret_value(), code=params["code"],
                redirect_uri=_redirect_uri(settings), code_verifier=pending.code_verifier,
            )
            kid = token_header(tokens["id_token"]).get("kid")
            jwks = await op.get_jwks(http, metadata=metadata, kid=kid if isinstance(kid, str) else None)
            claims = validate_id_token(
                tokens["id_token"], jwks=jwks, issuer=settings.oidc_issuer, client_id=settings.oidc_client_id,
                nonce=pending.nonce, algorithms=allowed_algorithms(metadata.id_token_algorithms),
            )
            access_token = tokens.get("access_token")
            userinfo = (
                await op.fetch_userinfo(http, metadata=metadata, access_token=access_token)
                if isinstance(access_token, str) else {}
            )
        except op.ProviderError as exc:
            raise SsoRefused(502, f"Sign-in failed: {exc}.") from exc
        except IdTokenError as exc:
            raise SsoRefused(401, f"Sign-in refused: {exc}.") from exc
    # OpenID Connect Core §5.3.2: userinfo about someone else must not be used.
    if userinfo and userinfo.get("sub") != claims["sub"]:
        raise SsoRefused(401, "Sign-in refused: the userinfo answer is about another user.")
    return {**claims, **userinfo}


async def _sso_user(session: AsyncSession, identity: OidcIdentity, client_ip: str) -> User:
    """Find the tenant the claims name and the user in it; unknown tenants create nothing."""
    try:
        tenant = await tenancy.get_tenant_by_name(session, name=identity.tenant_name)
    except NotFound as exc:
        log.warning("SSO sign-in refused: no tenant named %r", identity.tenant_name[:80])
        raise SsoRefused(403, f"There is no SecureGuard tenant named {identity.tenant_name!r}. "
                              "Ask an administrator to create it or to fix your tenant claim.") from exc
    try:
        login = await provision_sso_user(
            session, tenant_id=tenant.id or 0, subject=identity.subject, email=identity.email,
            email_verified=identity.email_verified, display_name=identity.display_name, role=identity.role,
        )
    except (Forbidden, Conflict) as exc:
        await record_audit(session, tenant_id=tenant.id or 0, actor=identity.email, action="login.failed",
                           target=f"sso {identity.email}", after={"method": "sso", "reason": exc.message},
                           client_ip=client_ip)
        raise SsoRefused(403, f"Sign-in refused: {exc.message}.") from exc
    return login.user


async def _finish_login(request: Request, session: AsyncSession) -> Response:
    settings = get_settings()
    if not settings.oidc_enabled:
        raise SsoRefused(404, "Single sign-on is not configured on this server.")
    state = request.query_params.get("state", "")
    pending = await op.take_pending(get_redis(), state=state) if state else None
    browser = request.cookies.get(LOGIN_COOKIE, "")
    if pending is None or not browser or hash_secret(browser) != pending.browser_hash:
        raise SsoRefused(400, "This sign-in answer does not match a sign-in started in this browser, "
                              "or it was already used or has expired. Start again.")
    claims = await _verified_claims(request, settings, pending)
    try:
        identity = map_identity(claims, tenant_claim=settings.oidc_tenant_claim, role_claim=settings.oidc_role_claim,
                                role_map=settings.oidc_role_map, default_role=settings.oidc_default_role)
    except ClaimError as exc:
        raise SsoRefused(403, exc.message) from exc
    client_ip = client_address(request)
    user = await _sso_user(session, identity, client_ip)
    # Rotate: a session id the browser held before the login never becomes the logged-in one.
    if old := request.cookies.get(SESSION_COOKIE):
        await tenancy.delete_session(session, cookie_value=old)
    cookie = await tenancy.create_session(
        session, tenant_id=user.tenant_id, user_id=user.id or 0, idle_minutes=settings.session_idle_minutes,
        client_ip=client_ip, user_agent=request.headers.get("user-agent", ""),
    )
    await record_audit(session, tenant_id=user.tenant_id, actor=user.email, action="login", client_ip=client_ip,
                       after={"method": "sso", "role": user.role})
    response = RedirectResponse(pending.next_path, status_code=303)
    # The same cookie as a password login sets (dashboard/api/auth.py).
    response.set_cookie(
        SESSION_COOKIE, cookie, httponly=True, samesite="lax", path="/",
        secure=settings.base_url.startswith("https://"), max_age=settings.session_idle_minutes * 60,
    )
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_COOKIE_PATH)
    return response


@router.get("/callback")
async def callback(request: Request, session: DbSession) -> Response:
    """The provider's redirect: check state, code, ID token and claims, then open a session like a password login."""
    try:
        return await _finish_login(request, session)
    except SsoRefused as exc:
        return refusal_page(exc.status, exc.message)


@router.post("/logout")
async def logout(request: Request, session: DbSession) -> RedirectResponse:
    """End the local session, then the provider's (RP-initiated logout) when it offers one (POST only, as
    `/auth/logout`, which sends SSO users here)."""
    return await end_sso_session(request, session)


async def end_sso_session(request: Request, session: AsyncSession) -> RedirectResponse:
    """Delete the session behind the request's cookie, then redirect to the provider's end-session page (or
    to the login page when SSO is off or the provider cannot be reached)."""
    settings = get_settings()
    if cookie := request.cookies.get(SESSION_COOKIE, ""):
        if (user := await tenancy.session_user(session, cookie_value=cookie)) is not None:
            await record_audit(session, tenant_id=user.tenant_id, actor=user.email, action="logout",
                               client_ip=client_address(request), after={"method": "sso"})
        await tenancy.delete_session(session, cookie_value=cookie)
    back = f"{settings.base_url.rstrip('/')}/login?error=logged_out"
    target: str | None = None
    if settings.oidc_enabled:
        async with _http() as http:
            try:
                metadata = await op.get_metadata(http, issuer=settings.oidc_issuer)
                target = op.end_session_url(metadata, client_id=settings.oidc_client_id, post_logout_redirect_uri=back)
            except op.ProviderError as exc:
                # The local session is already gone; the provider's can outlive it.
                log.warning("SSO logout at the provider skipped: %s", exc)
    response = RedirectResponse(target or "/login?error=logged_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
