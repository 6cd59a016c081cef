"""Session cookie routes: trade a login ticket for a server-side session; log out; hand out login nonces."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from dashboard.api.deps import DbSession, client_address
from dashboard.api.headers import ASGIApp, Message, Receive, Scope, Send
from dashboard.api.oidc import end_sso_session
from jobs.auth.clients import DEVICE_COOKIE, DEVICE_COOKIE_DAYS, cookie_value, new_device_cookie
from jobs.auth.redirects import local_path
from jobs.auth.session import SESSION_COOKIE
from jobs.auth.tickets import LOGIN_NONCE_COOKIE, LOGIN_NONCE_DAYS, new_login_nonce, redeem_ticket
from jobs.runtime.connections import get_redis
from models.errors import NotFound
from models.queries import tenancy
from models.queries.audit import record_audit
from models.settings import get_settings

router = APIRouter(prefix="/auth", include_in_schema=False)


def safe_next(target: str) -> str:
    """Only local paths (`jobs.auth.redirects.local_path`)."""
    return local_path(target)


@router.post("/session")
async def start_session(request: Request, session: DbSession) -> RedirectResponse:
    """Open a session for a one-time ticket posted by the browser it was issued to, and set the HttpOnly cookie.

    POST only, and the ticket must come with the login nonce its login form had: a ticket of the attacker's
    own account, sent to a victim as a link or an auto-submitting form, opens nothing (login CSRF).
    """
    settings, form = get_settings(), await request.form()
    ticket, target = str(form.get("ticket", "")), str(form.get("next", "/"))
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE, "")
    user_id = await redeem_ticket(get_redis(), ticket=ticket, nonce=nonce) if ticket else None
    user = None
    if user_id is not None:
        try:
            user = await tenancy.get_user_any_tenant(session, user_id=user_id)
        except NotFound:
            user = None
    if user is None or user.disabled:
        return RedirectResponse("/login?error=expired", status_code=303)
    client_ip = client_address(request)
    # Rotation: a login always gets a new id, and a session the browser still held ends here.
    if previous := request.cookies.get(SESSION_COOKIE, ""):
        await tenancy.delete_session(session, cookie_value=previous)
    cookie = await tenancy.create_session(
        session, tenant_id=user.tenant_id, user_id=user.id or 0, idle_minutes=settings.session_idle_minutes,
        client_ip=client_ip, user_agent=request.headers.get("user-agent", ""),
    )
    await record_audit(session, tenant_id=user.tenant_id, actor=user.email, action="login", client_ip=client_ip)
    response = RedirectResponse(safe_next(target), status_code=303)
    secure = settings.base_url.startswith("https://")
    response.set_cookie(
        SESSION_COOKIE, cookie, httponly=True, samesite="lax", path="/",
        secure=secure, max_age=settings.session_idle_minutes * 60,
    )
    set_login_nonce(response, secure=secure)  # one nonce serves one sign-in
    # This browser is now known for this account: the login throttle gives it a budget of its own.
    response.set_cookie(DEVICE_COOKIE, new_device_cookie(settings.secret_key, email=user.email), httponly=True,
                        samesite="lax", path="/", secure=secure, max_age=DEVICE_COOKIE_DAYS * 86400)
    return response


def set_login_nonce(response: Response, *, secure: bool) -> None:
    """Give the browser a fresh login nonce (HttpOnly; Lax, so arriving by a link does not replace it)."""
    response.set_cookie(LOGIN_NONCE_COOKIE, new_login_nonce(), httponly=True, samesite="lax", path="/",
                        secure=secure, max_age=LOGIN_NONCE_DAYS * 86400)


@router.post("/logout")
async def logout(request: Request, session: DbSession) -> RedirectResponse:
    """End the session server-side and clear the cookie.

    POST only: the cookie is SameSite=Lax, so another site can still make a browser follow a link here
    with it, but cannot POST with it. A GET answers 405 and ends nothing.
    """
    cookie = request.cookies.get(SESSION_COOKIE, "")
    user = await tenancy.session_user(session, cookie_value=cookie)
    if user is not None and user.oidc_subject and get_settings().oidc_enabled:
        # An SSO user's provider session ends too (RP-initiated logout), or the next login is silent.
        return await end_sso_session(request, session)
    if user is not None:
        await record_audit(session, tenant_id=user.tenant_id, actor=user.email, action="logout",
                           client_ip=client_address(request))
    if cookie:
        await tenancy.delete_session(session, cookie_value=cookie)
    response = RedirectResponse("/login?error=logged_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


class LoginNonce:
    """ASGI middleware: a browser answered without a login-nonce cookie gets one (`jobs.auth.tickets`).

    Every page and asset answer of the port carries it, so the websocket a login form opens afterwards
    presents it; REST answers (/api/) do not, API clients sign in with tokens.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        request_cookies = b"; ".join(value for name, value in scope.get("headers", []) if name == b"cookie")
        if cookie_value(request_cookies.decode("latin-1"), LOGIN_NONCE_COOKIE):
            await self.app(scope, receive, send)
            return
        holder = Response()
        set_login_nonce(holder, secure=get_settings().base_url.startswith("https://"))
        extra = [(name, value) for name, value in holder.raw_headers if name == b"set-cookie"]

        async def send_with_nonce(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"set-cookie" and value.startswith(LOGIN_NONCE_COOKIE.encode())
                           for name, value in headers):
                    headers.extend(extra)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_nonce)
