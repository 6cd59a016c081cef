"""Session cookie routes: trade a login ticket for a server-side session; log out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from dashboard.api.deps import DbSession
from dashboard.api.oidc import end_sso_session
from jobs.auth.redirects import local_path
from jobs.auth.session import SESSION_COOKIE
from jobs.auth.tickets import redeem_ticket
from jobs.runtime.connections import get_redis
from models.errors import NotFound
from models.queries import tenancy
from models.queries.audit import record_audit
from models.settings import get_settings

router = APIRouter(prefix="/auth", include_in_schema=False)


def safe_next(target: str) -> str:
    """Only local paths (`jobs.auth.redirects.local_path`)."""
    return local_path(target)


@router.get("/session")
async def start_session(request: Request, session: DbSession, ticket: str = "", next: str = "/") -> RedirectResponse:
    """Open a session for a valid one-time ticket and set the HttpOnly cookie."""
    settings = get_settings()
    user_id = await redeem_ticket(get_redis(), ticket=ticket) if ticket else None
    user = None
    if user_id is not None:
        try:
            user = await tenancy.get_user_any_tenant(session, user_id=user_id)
        except NotFound:
            user = None
    if user is None or user.disabled:
        return RedirectResponse("/login?error=expired", status_code=303)
    client_ip = request.client.host if request.client else ""
    # Rotation: a login always gets a new id, and a session the browser still held ends here.
    if previous := request.cookies.get(SESSION_COOKIE, ""):
        await tenancy.delete_session(session, cookie_value=previous)
    cookie = await tenancy.create_session(
        session, tenant_id=user.tenant_id, user_id=user.id or 0, idle_minutes=settings.session_idle_minutes,
        client_ip=client_ip, user_agent=request.headers.get("user-agent", ""),
    )
    await record_audit(session, tenant_id=user.tenant_id, actor=user.email, action="login", client_ip=client_ip)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, cookie, httponly=True, samesite="lax", path="/",
        secure=settings.base_url.startswith("https://"), max_age=settings.session_idle_minutes * 60,
    )
    return response


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
                           client_ip=request.client.host if request.client else "")
    if cookie:
        await tenancy.delete_session(session, cookie_value=cookie)
    response = RedirectResponse("/login?error=logged_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
