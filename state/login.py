"""The login form: check the password, then hand the browser a one-time ticket for its cookie."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import reflex as rx
from reflex_base.event import EventSpec

from jobs.auth import clients
from jobs.auth.ratelimit import RateLimited, login_succeeded, reserve_login
from jobs.auth.redirects import local_path
from jobs.auth.tickets import LOGIN_NONCE_COOKIE, issue_ticket
from jobs.runtime.connections import get_redis
from models.db import session_scope
from models.queries import tenancy
from models.queries.audit import record_audit
from models.settings import get_settings

# Slows password guessing further, on top of the lock-out.
FAILURE_DELAY_SECONDS = 0.4
MESSAGES = {
    "invalid": "Wrong email or password.",
    "locked": "Too many failed attempts. Wait a few minutes and try again.",
    "ended": "Your session ended. Sign in again.",
    "missing": "Enter your email and password.",
    "expired": "Your sign-in link expired. Sign in again.",
    "logged_out": "You are signed out.",
    "no_cookie": "Your browser did not send the sign-in cookie: allow cookies for this site and reload the page.",
}
# Posts the ticket to /auth/session in a form the page builds and submits (a navigation, not a fetch).
SUBMIT_TICKET = (
    "(() => { const form = document.createElement('form'); form.method = 'POST'; form.action = '/auth/session';"
    " for (const [name, value] of Object.entries(FIELDS)) { const field = document.createElement('input');"
    " field.type = 'hidden'; field.name = name; field.value = value; form.appendChild(field); }"
    " document.body.appendChild(form); form.submit(); })()"
)


def _safe_next(target: str) -> str:
    return local_path(target)


def _describe_wait(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} second{'s' if rest != 1 else ''}"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


async def _audit_failure(email: str, client_ip: str, action: str, after: dict[str, Any]) -> None:
    # Filed in the tenant of the account named, when there is one; an unknown email has no tenant to file in.
    async with session_scope() as session:
        user = await tenancy.find_user_by_email(session, email=email)
        if user is not None:
            await record_audit(session, tenant_id=user.tenant_id, actor=email, action=action,
                               target=f"user #{user.id} {user.email}", after=after, client_ip=client_ip)


class LoginState(rx.State):
    message: str = ""
    is_error: bool = False
    busy: bool = False
    # Read at each load, not at compile time: SSO is configured per running server.
    oidc_enabled: bool = False
    sso_url: str = "/auth/oidc/login"
    _next: str = "/"
    # An attempt answered since the last on_load: a submit queued while the socket connected can arrive before the
    # page's on_load, which then wiped its answer (on a loaded CI machine the first wrong password showed nothing).
    _answered: bool = False

    @rx.event
    def load(self) -> None:
        """Show why the user is here (signed out, expired) and remember where to go next; an attempt already
        answered keeps its answer unless the URL says why the user was sent here."""
        params = self.router.url.query_parameters
        code = params.get("error", "")
        if code or not self._answered:
            self.message = MESSAGES.get(code, "")
            self.is_error = code not in ("", "logged_out")
            self.busy = False
        self._answered = False
        self._next = _safe_next(params.get("next", "/"))
        self.oidc_enabled = get_settings().oidc_enabled
        self.sso_url = f"/auth/oidc/login?next={quote(self._next)}"

    @rx.event
    async def login(self, form: dict[str, Any]) -> EventSpec | None:
        """Check the credentials with throttling; on success navigate to the cookie route.

        A submit made before the socket connected is queued by the page and arrives here once it has; a second
        one queued behind a successful sign-in is dropped (the page is already leaving)."""
        if self.busy:
            return None
        self._answered = True
        email = str(form.get("email", "")).strip().lower()
        password = str(form.get("password", ""))
        # Read here too: the form can be sent before the page's on_load has run.
        self._next = _safe_next(self.router.url.query_parameters.get("next", self._next))
        if not email or not password:
            return self._fail("missing")
        nonce = clients.cookie_value(self.router.headers.cookie, LOGIN_NONCE_COOKIE)
        if not nonce:
            return self._fail("no_cookie")
        settings, redis, client_ip = get_settings(), get_redis(), self._client_address()
        try:
            # Reserved before the check runs, so parallel attempts cannot each slip a guess past the limit.
            attempt = await reserve_login(redis, settings=settings, email=email, client_ip=client_ip,
                                          device=self._known_device(email))
        except RateLimited as exc:
            await _audit_failure(email, client_ip, "login.throttled", {"retry_after": exc.retry_after})
            self._fail("locked")
            self.message = f"Too many failed sign-in attempts. Try again in {_describe_wait(exc.retry_after)}."
            return None
        async with session_scope() as session:
            user = await tenancy.authenticate(session, email=email, password=password)
        if user is None:
            await _audit_failure(email, client_ip, "login.failed", {})
            await asyncio.sleep(FAILURE_DELAY_SECONDS)
            return self._fail("invalid")
        await login_succeeded(redis, attempt)
        # Bound to this browser's login nonce: only a request that bears it can redeem the ticket.
        ticket = await issue_ticket(redis, user_id=user.id or 0, nonce=nonce)
        self.busy, self.message, self.is_error = True, "Signing in…", False
        # A full navigation (a POST), so the HTTP route can set the HttpOnly cookie.
        return rx.call_script(SUBMIT_TICKET.replace("FIELDS", json.dumps({"ticket": ticket, "next": self._next})))

    def _client_address(self) -> str:
        # Reflex's own client_ip is the socket peer (trusted_proxy_hops = 0); SG_TRUSTED_PROXIES decides here.
        forwarded = self.router.headers.raw_headers.get("x-forwarded-for", "")
        return clients.client_address(self.router.session.client_ip, forwarded,
                                      get_settings().trusted_proxy_networks)

    def _known_device(self, email: str) -> str | None:
        # A browser that signed in to this account before (its device cookie) is throttled on its own.
        cookie = clients.cookie_value(self.router.headers.cookie, clients.DEVICE_COOKIE)
        return clients.known_device(get_settings().secret_key, email=email, cookie=cookie)

    def _fail(self, code: str) -> EventSpec | None:
        # Typed as an answer, so a refusal can be returned: nothing follows it.
        self.message, self.is_error, self.busy = MESSAGES[code], True, False
        return None
