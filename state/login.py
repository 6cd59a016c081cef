"""The login form: check the password, then hand the browser a one-time ticket for its cookie."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import reflex as rx

from jobs.connections import get_redis
from jobs.ratelimit import clear_login_failures, login_budgets, login_locked, record_login_failure
from jobs.tickets import issue_ticket
from models.db import session_scope
from models.queries import tenancy
from models.settings import get_settings

# Slows password guessing further, on top of the lock-out.
FAILURE_DELAY_SECONDS = 0.4
MESSAGES = {
    "invalid": "Wrong email or password.",
    "locked": "Too many failed attempts. Wait a few minutes and try again.",
    "missing": "Enter your email and password.",
    "expired": "Your sign-in link expired. Sign in again.",
    "logged_out": "You are signed out.",
}


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect would turn the login page into a phishing aid.
    return target if target.startswith("/") and not target.startswith("//") and target != "/login" else "/"


class LoginState(rx.State):
    message: str = ""
    is_error: bool = False
    busy: bool = False
    _next: str = "/"

    @rx.event
    def load(self) -> None:
        """Show why the user is here (signed out, expired) and remember where to go next."""
        params = self.router.url.query_parameters
        code = params.get("error", "")
        self.message = MESSAGES.get(code, "")
        self.is_error = code not in ("", "logged_out")
        self._next = _safe_next(params.get("next", "/"))
        self.busy = False

    @rx.event
    async def login(self, form: dict[str, Any]) -> rx.event.EventSpec | None:
        """Check the credentials with throttling; on success navigate to the cookie route."""
        email = str(form.get("email", "")).strip().lower()
        password = str(form.get("password", ""))
        # Read here too: the form can be sent before the page's on_load has run.
        self._next = _safe_next(self.router.url.query_parameters.get("next", self._next))
        if not email or not password:
            return self._fail("missing")
        settings, redis = get_settings(), get_redis()
        budgets = login_budgets(
            email=email, client_ip=self.router.session.client_ip, per_account=settings.login_max_failures
        )
        if await login_locked(redis, budgets=budgets):
            return self._fail("locked")
        async with session_scope() as session:
            user = await tenancy.authenticate(session, email=email, password=password)
        if user is None:
            await record_login_failure(redis, budgets=budgets, window_seconds=settings.login_window_seconds)
            await asyncio.sleep(FAILURE_DELAY_SECONDS)
            return self._fail("invalid")
        await clear_login_failures(redis, email=email)
        ticket = await issue_ticket(redis, user_id=user.id or 0)
        self.busy, self.message, self.is_error = True, "Signing in…", False
        url = f"/auth/session?ticket={ticket}&next={quote(self._next)}"
        # A full navigation, so the HTTP route can set the HttpOnly cookie.
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

    def _fail(self, code: str) -> None:
        self.message, self.is_error, self.busy = MESSAGES[code], True, False
