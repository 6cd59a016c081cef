"""AppState: who the user is, for which tenant, with which role; from the server side only."""

from __future__ import annotations

import time
from http.cookies import CookieError, SimpleCookie
from typing import Any

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event

from jobs.auth.session import SESSION_COOKIE
from models.db import session_scope
from models.errors import Forbidden
from models.queries import tenancy
from models.settings import get_settings
from models.tenancy import ROLE_RANK
from state import live

LIVE_FEED_SIZE = 8
# Handlers that establish or end identity themselves; every other AppState handler is guarded.
UNGUARDED_HANDLERS = frozenset({"check_session", "sign_out"})


def session_cookie(header: str) -> str:
    """The session id in a Cookie header, or ''."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header or "")
    except CookieError:
        return ""
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else ""


def _describe(event: dict[str, Any]) -> str:
    data = event.get("data", {})
    if event.get("type") == "job.updated":
        return f"job {data.get('name')} #{data.get('id')} {data.get('status')}"
    return str(event.get("type", "event"))


class AppState(rx.State):
    """Identity lives in backend-only vars (underscore): the browser never sends or sees them."""

    _user_id: int = 0
    _tenant_id: int = 0
    _role: str = ""
    user_email: str = ""
    tenant_name: str = ""
    role: str = ""
    live_feed: list[dict[str, str]] = []
    live_received: int = 0
    # "type|id|published-at|ms to reach this session" of the newest event, so delivery can be timed.
    last_event: str = ""

    @rx.event
    async def check_session(self) -> rx.event.EventSpec | None:
        """on_load of every protected page: load identity from the HttpOnly session cookie."""
        cookie = session_cookie(self.router.headers.cookie)
        async with session_scope() as session:
            found = await tenancy.resolve_session(
                session, cookie_value=cookie, idle_minutes=get_settings().session_idle_minutes
            )
            tenant = await tenancy.get_tenant(session, tenant_id=found[0].tenant_id) if found else None
        if found is None or tenant is None:
            self._forget()
            return rx.redirect(f"/login?next={self.router.url.path or '/'}")
        user, _ = found
        self._user_id, self._tenant_id, self._role = user.id or 0, user.tenant_id, user.role
        self.user_email, self.tenant_name, self.role = user.email, tenant.name, user.role
        live.register_session(user.tenant_id, self.router.session.client_token)
        return None

    @rx.event
    def sign_out(self) -> rx.event.EventSpec:
        """Forget the identity in this tab, then let the HTTP route end the session and clear the cookie."""
        self._forget()
        # A full navigation: the cookie is HttpOnly, so only the server can clear it. A form POST, since the
        # logout route refuses GET (a link on another site must not sign anyone out).
        return rx.call_script(
            "const form = document.createElement('form'); form.method = 'post'; form.action = '/auth/logout';"
            " document.body.appendChild(form); form.submit();"
        )

    async def _refresh_identity(self) -> bool:
        """Re-read the session behind this tab (sliding its expiry) and the user's current role.

        False when the session expired, was ended (sign-out, rotation, user disabled) or now belongs to
        somebody else: the caller then forgets the identity.
        """
        cookie = session_cookie(self.router.headers.cookie)
        async with session_scope() as session:
            found = await tenancy.resolve_session(
                session, cookie_value=cookie, idle_minutes=get_settings().session_idle_minutes
            )
        if found is None or found[0].id != self._user_id or found[0].tenant_id != self._tenant_id:
            return False
        self._role = self.role = found[0].role
        return True

    def _forget(self) -> None:
        live.unregister_session(self.router.session.client_token)
        self._user_id, self._tenant_id, self._role = 0, 0, ""
        self.user_email = self.tenant_name = self.role = ""

    def _require(self, role: str) -> int:
        """The tenant id when the session's role is at least `role`; raise Forbidden otherwise."""
        if not self._tenant_id:
            raise Forbidden("your session has ended: log in again")
        if ROLE_RANK.get(self._role, -1) < ROLE_RANK[role]:
            raise Forbidden(f"this action needs role {role} or higher")
        return self._tenant_id

    @property
    def actor(self) -> str:
        """The user as named in job runs and the audit log."""
        return self.user_email

    def _on_live_event(self, event: dict[str, Any]) -> None:
        """Every live event lands in the header's feed."""
        self.live_received += 1
        latency_ms = max(0.0, (time.time() - float(event.get("ts", time.time()))) * 1000)
        data = event.get("data", {})
        self.last_event = f"{event.get('type', '')}|{data.get('id', '')}|{event.get('ts', '')}|{latency_ms:.1f}"
        item = {"text": _describe(event), "type": str(event.get("type", "")), "latency": f"{latency_ms:.0f} ms"}
        self.live_feed = [item, *self.live_feed][:LIVE_FEED_SIZE]


class SessionGuard(Middleware):
    """Before each event of a signed-in page, check the session again: expiry after inactivity, a user
    disabled or signed out elsewhere, and role changes take effect on the next click, not the next page."""

    async def preprocess(self, app: Any, state: BaseState, event: Event) -> StateUpdate | None:
        """Let the event through when the session still holds; else forget the identity and go to login."""
        prefix = AppState.get_full_name() + "."
        if not event.name.startswith(prefix) or event.name.rsplit(".", 1)[-1] in UNGUARDED_HANDLERS:
            return None
        app_state = await state.get_state(AppState)
        if not app_state._user_id or await app_state._refresh_identity():
            return None
        app_state._forget()
        return StateUpdate(events=Event.from_event_type(rx.redirect("/login?error=ended")))
