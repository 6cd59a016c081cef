"""AppState: who the user is, for which tenant, with which role; from the server side only."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar, cast

import reflex as rx
from reflex.middleware.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import BACKGROUND_TASK_MARKER, Event, EventSpec

# every state's plotly figures unpickle from Redis without re-validation (state/figure_pickle.py)
import state.figure_pickle  # noqa: F401
from jobs.auth.session import SESSION_COOKIE
from models.db import session_scope
from models.errors import Forbidden
from models.queries import tenancy
from models.settings import get_settings
from models.tenancy import ROLE_RANK, User
from state import live

LIVE_FEED_SIZE = 8
# Handlers that establish or end identity themselves; every other AppState handler is guarded.
UNGUARDED_HANDLERS = frozenset({"check_session", "sign_out"})
# The attribute `guarded` leaves on a handler: the role it checks (tests/unit/test_handlers_guarded.py reads it).
GUARD_ROLE = "_sg_guard_role"
Handler = TypeVar("Handler", bound=Callable[..., Any])


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


def guarded(role: str) -> Callable[[Handler], Handler]:
    """Put under `@rx.event`: the handler runs only for a session whose role is at least `role`.

    Neither case runs the handler, and neither is silent: a tab without a session goes to the login page,
    a role too low is told why (`AppState._refuse`). A background handler takes the state lock to check.
    """
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    def decorate(fn: Handler) -> Handler:
        wrapper: Callable[..., Any]
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(self: AppState, *args: Any, **kwargs: Any) -> Any:
                if getattr(run_async, BACKGROUND_TASK_MARKER, False):
                    async with self:
                        allowed, answer = self._admit(role)
                else:
                    allowed, answer = self._admit(role)
                return await fn(self, *args, **kwargs) if allowed else answer

            wrapper = run_async
        elif inspect.isfunction(fn) and not inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def run(self: AppState, *args: Any, **kwargs: Any) -> Any:
                allowed, answer = self._admit(role)
                return fn(self, *args, **kwargs) if allowed else answer

            wrapper = run
        else:
            raise TypeError(f"{fn!r}: only plain and async functions can be guarded")
        setattr(wrapper, GUARD_ROLE, role)
        return cast(Handler, wrapper)

    return decorate


# Reflex's reset, typed: a state's vars (backend-only ones too) back to their defaults, its loaded substates too.
_reset: Callable[[BaseState], None] = BaseState.reset


def _by_name(classes: set[type[BaseState]]) -> list[type[BaseState]]:
    return sorted(classes, key=lambda cls: cls.get_name())


class AppState(rx.State):
    """Identity lives in backend-only vars (underscore): the browser never sends or sees them.

    The page states below it belong to that identity: when it ends or changes (sign-out, an expired session,
    another user or a new role in the same tab), every one of them is reset, backend-only vars included.
    """

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
    # Why the last action was refused (role too low); the app shell shows it until the next page.
    denied: str = ""

    @rx.var
    def role_rank(self) -> int:
        """The session's role as a rank (viewer 0 … admin 3; -1 signed out), for what a page shows."""
        return ROLE_RANK.get(self.role, -1)

    @rx.event
    async def check_session(self) -> EventSpec | None:
        """on_load of every protected page: load identity from the HttpOnly session cookie."""
        cookie = session_cookie(self.router.headers.cookie)
        async with session_scope() as session:
            found = await tenancy.resolve_session(
                session, cookie_value=cookie, idle_minutes=get_settings().session_idle_minutes
            )
            tenant = await tenancy.get_tenant(session, tenant_id=found[0].tenant_id) if found else None
        self.denied = ""
        if found is None or tenant is None:
            await self._forget()
            return self._to_login()
        await self._adopt(found[0], tenant.name)
        return None

    @rx.event
    async def sign_out(self) -> EventSpec:
        """Forget the identity in this tab, then let the HTTP route end the session and clear the cookie."""
        await self._forget()
        # A full navigation: the cookie is HttpOnly, so only the server can clear it. A form POST, since the
        # logout route refuses GET (a link on another site must not sign anyone out).
        return rx.call_script(
            "const form = document.createElement('form'); form.method = 'post'; form.action = '/auth/logout';"
            " document.body.appendChild(form); form.submit();"
        )

    @rx.event
    @guarded("viewer")
    def dismiss_denied(self) -> None:
        """Hide the refusal banner."""
        self.denied = ""

    async def _adopt(self, user: User, tenant_name: str) -> None:
        """Take the session's identity; page states loaded for another user, tenant or role are dropped."""
        if (user.id or 0, user.tenant_id, user.role) != (self._user_id, self._tenant_id, self._role):
            await self._forget()
        self._user_id, self._tenant_id, self._role = user.id or 0, user.tenant_id, user.role
        self.user_email, self.tenant_name, self.role = user.email, tenant_name, user.role
        live.register_session(user.tenant_id, self.router.session.client_token)

    async def _refresh_identity(self) -> bool:
        """Re-read the session behind this tab (sliding its expiry) and the user's current role.

        False when the session expired, was ended (sign-out, rotation, user disabled) or now belongs to
        somebody else: the caller then forgets the identity. A changed role drops the page states.
        """
        cookie = session_cookie(self.router.headers.cookie)
        async with session_scope() as session:
            found = await tenancy.resolve_session(
                session, cookie_value=cookie, idle_minutes=get_settings().session_idle_minutes
            )
        if found is None or found[0].id != self._user_id or found[0].tenant_id != self._tenant_id:
            return False
        if found[0].role != self._role:
            await self._reset_pages()
            self._role = self.role = found[0].role
        return True

    async def _page_states(self) -> list[BaseState]:
        """Every state below AppState in this tab, loaded (from Redis when this event has not yet)."""
        classes, found = _by_name(AppState.get_substates()), []
        while classes:
            cls = classes.pop(0)
            found.append(await self.get_state(cls))
            classes += _by_name(cls.get_substates())
        return found

    async def _reset_pages(self) -> None:
        """Every page state back to its defaults (each reset reaches its own substates, all loaded now)."""
        for page in await self._page_states():
            if type(page).get_parent_state() is AppState:
                _reset(page)

    async def _forget(self) -> None:
        """End the identity in this tab and drop everything its page states hold."""
        live.unregister_session(self.router.session.client_token)
        await self._page_states()
        # AppState's own vars (identity, live feed, banner) and, recursively, every page state.
        _reset(self)

    def _require(self, role: str) -> int:
        """The tenant id when the session's role is at least `role`; raise Forbidden otherwise."""
        if not self._tenant_id:
            raise Forbidden("your session has ended: log in again")
        if ROLE_RANK.get(self._role, -1) < ROLE_RANK[role]:
            raise Forbidden(f"this action needs role {role} or higher")
        return self._tenant_id

    def _admit(self, role: str) -> tuple[bool, EventSpec | None]:
        """(True, None) when the session may act as `role`; else (False, the answer): the login page for a
        tab without a session, nothing after telling a role too low why."""
        try:
            self._require(role)
        except Forbidden:
            if not self._tenant_id:
                return False, self._to_login()
            higher = "" if role == "admin" else " or higher"
            self._refuse(f"Your role ({self._role}) cannot do this: it needs role {role}{higher}. "
                         f"Ask an admin of {self.tenant_name} for access.")
            return False, None
        return True, None

    def _refuse(self, message: str) -> None:
        """Show why an action was refused: the app shell's banner, unless the page has a place of its own."""
        self.denied = message

    def _to_login(self) -> EventSpec:
        return rx.redirect(f"/login?next={self.router.url.path or '/'}")

    @property
    def actor(self) -> str:
        """The user as named in job runs and the audit log."""
        return self.user_email

    def _on_live_event(self, event: dict[str, Any]) -> Awaitable[None] | None:
        """Every live event lands in the header's feed (page states may answer with a coroutine)."""
        self.live_received += 1
        latency_ms = max(0.0, (time.time() - float(event.get("ts", time.time()))) * 1000)
        data = event.get("data", {})
        self.last_event = f"{event.get('type', '')}|{data.get('id', '')}|{event.get('ts', '')}|{latency_ms:.1f}"
        item = {"text": _describe(event), "type": str(event.get("type", "")), "latency": f"{latency_ms:.0f} ms"}
        self.live_feed = [item, *self.live_feed][:LIVE_FEED_SIZE]
        return None


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
        await app_state._forget()
        return StateUpdate(events=Event.from_event_type(rx.redirect("/login?error=ended")))
