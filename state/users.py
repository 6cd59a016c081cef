"""The Users page (admins): invite users with a one-time set-password link, change roles, disable/enable.

A new user gets no password: the admin hands over a link (256 random bits, stored hashed in Redis,
valid PASSWORD_LINK_HOURS, used once) on which the user chooses one. Every change is audited; a
disabled user is signed out everywhere (their open tabs at their next click, see SessionGuard).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import reflex as rx
from reflex_base.event import EventSpec

from jobs.runtime.connections import get_redis
from jobs.runtime.constants import password_link_key, user_password_link_key
from models.credentials import MIN_PASSWORD_LENGTH, hash_secret, new_secret
from models.db import session_scope
from models.errors import Conflict, NotFound
from models.queries import tenancy
from models.queries.audit import record_audit
from models.settings import get_settings
from models.tenancy import ROLES, User
from state.base import AppState, guarded

PASSWORD_LINK_HOURS = 48
SET_PASSWORD_PATH = "/set-password"


def _when(stamp: datetime | None) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M") if stamp else "never"


def user_row(user: User) -> dict[str, str]:
    """A user as the table shows it."""
    return {
        "id": str(user.id), "email": user.email, "name": user.display_name, "role": user.role,
        "state": "disabled" if user.disabled else ("invited" if user.password_hash is None and not user.oidc_subject
                                                   else "active"),
        "last_login": _when(user.last_login_at), "sso": "yes" if user.oidc_subject else "",
    }


async def issue_password_link(*, tenant_id: int, user_id: int) -> str:
    """A new one-time set-password URL for a user; only the hash of its secret is stored."""
    secret, redis, ttl = new_secret(), get_redis(), PASSWORD_LINK_HOURS * 3600
    link_hash = hash_secret(secret)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(user_password_link_key(tenant_id, user_id), link_hash, ex=ttl, get=True)
        pipe.set(password_link_key(link_hash), f"{tenant_id}:{user_id}", ex=ttl)
        earlier, _ = await pipe.execute()
    if earlier:  # only the newest link a user was handed works
        await redis.delete(password_link_key(earlier.decode() if isinstance(earlier, bytes) else str(earlier)))
    return f"{get_settings().base_url}{SET_PASSWORD_PATH}?link={quote(secret)}"


async def redeem_password_link(secret: str) -> tuple[int, int] | None:
    """(tenant_id, user_id) of a live link, consuming it; None when unknown, used or expired."""
    value = await get_redis().getdel(password_link_key(hash_secret(secret))) if secret else None
    if value is None:
        return None
    tenant_id, user_id = (value.decode() if isinstance(value, bytes) else str(value)).split(":")
    await get_redis().delete(user_password_link_key(int(tenant_id), int(user_id)))
    return int(tenant_id), int(user_id)


class UsersState(AppState):
    users: list[dict[str, str]] = []
    message: str = ""
    is_error: bool = False
    # The link of the user just invited or reset: shown once, like an API token.
    new_link: str = ""
    # The change waiting for confirmation: {"id", "email", "action": role|disable|enable|link, "role"}.
    pending: dict[str, str] = {}

    @rx.var
    def pending_text(self) -> str:
        """The confirmation question for the pending change."""
        action, email = self.pending.get("action", ""), self.pending.get("email", "")
        return {
            "role": f"Change the role of {email} to {self.pending.get('role', '')}?",
            "disable": f"Disable {email}? They are signed out everywhere and cannot sign in until enabled.",
            "enable": f"Enable {email} again?",
            "link": f"Make a new set-password link for {email}? Their current password keeps working until used.",
        }.get(action, "")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message, self.is_error = text, error

    @rx.event
    @guarded("admin")
    async def load(self) -> None:
        """The tenant's users (admins only)."""
        await self._reload()

    async def _reload(self) -> None:
        async with session_scope() as session:
            self.users = [user_row(u) for u in await tenancy.list_users(session, tenant_id=self._tenant_id)]

    @rx.event
    @guarded("admin")
    async def create_user(self, form: dict[str, Any]) -> None:
        """Invite a user: email and role; answers a one-time set-password link."""
        tenant_id = self._tenant_id
        email, role = str(form.get("email", "")).strip().lower(), str(form.get("role", ""))
        if role not in ROLES:
            self._say(f"Choose a role: {', '.join(ROLES)}.", error=True)
            return
        try:
            async with session_scope() as session:
                user = await tenancy.create_user(session, tenant_id=tenant_id, email=email, role=role, password=None)
                await record_audit(session, tenant_id=tenant_id, actor=self.actor, action="user.create",
                                   target=f"user #{user.id} {user.email}", after={"role": role})
        except (ValueError, Conflict) as exc:
            self._say(str(exc), error=True)
            return
        self.new_link = await issue_password_link(tenant_id=tenant_id, user_id=user.id or 0)
        self._say(f"{email} invited as {role}. Send them this link; it works once, for {PASSWORD_LINK_HOURS} h.")
        await self._reload()

    @rx.event
    @guarded("admin")
    def ask(self, user_id: str, action: str, role: str = "") -> None:
        """Stage a change (role, disable, enable, link) for confirmation."""
        row = next((u for u in self.users if u["id"] == user_id), None)
        valid = action in ("disable", "enable", "link") or (action == "role" and role in ROLES)
        if row is None or not valid:
            self._say("Choose a user and a valid change.", error=True)
            return
        self.pending = {"id": user_id, "email": row["email"], "action": action, "role": role}

    @rx.event
    @guarded("admin")
    def cancel(self) -> None:
        """Drop the staged change."""
        self.pending = {}

    @rx.event
    @guarded("admin")
    async def confirm(self) -> None:
        """Apply the staged change, audited."""
        pending, self.pending = self.pending, {}
        try:
            await self._apply(self._tenant_id, int(pending.get("id", "")), pending)
        except (NotFound, Conflict) as exc:
            self._say(exc.message, error=True)
        except ValueError:
            self._say("Choose a user and a valid change.", error=True)
        await self._reload()

    async def _apply(self, tenant_id: int, user_id: int, pending: dict[str, str]) -> None:
        action = pending.get("action", "")
        async with session_scope() as session:
            user = await tenancy.get_user(session, tenant_id=tenant_id, user_id=user_id)
            target = f"user #{user.id} {user.email}"
            if action == "role":
                user, before = await tenancy.set_user_role(session, tenant_id=tenant_id, user_id=user_id,
                                                           role=pending.get("role", ""))
                await record_audit(session, tenant_id=tenant_id, actor=self.actor, action="user.role", target=target,
                                   before={"role": before}, after={"role": user.role})
                self._say(f"{user.email} is now {user.role}.")
            elif action in ("disable", "enable"):
                await tenancy.set_user_disabled(session, tenant_id=tenant_id, user_id=user_id,
                                                disabled=action == "disable")
                await record_audit(session, tenant_id=tenant_id, actor=self.actor, action=f"user.{action}",
                                   target=target)
                self._say(f"{user.email} {action}d" + (" and signed out everywhere." if action == "disable" else "."))
            elif action == "link":
                await record_audit(session, tenant_id=tenant_id, actor=self.actor, action="user.password_link",
                                   target=target)
                self.new_link = await issue_password_link(tenant_id=tenant_id, user_id=user_id)
                self._say(f"New set-password link for {user.email}; it works once, for {PASSWORD_LINK_HOURS} h.")
            else:
                raise ValueError(action)

    @rx.event
    @guarded("admin")
    def dismiss_link(self) -> None:
        """Hide the link once it was copied."""
        self.new_link = ""


class SetPasswordState(rx.State):
    """The public page behind a one-time link: choose a password, then sign in."""

    message: str = ""
    is_error: bool = False
    done: bool = False
    _link: str = ""

    @rx.event
    def load(self) -> None:
        """Keep the link from the URL server-side."""
        self._link = self.router.url.query_parameters.get("link", "")
        self.done, self.is_error = False, not self._link
        self.message = "" if self._link else "This page needs the link your admin sent you."

    @rx.event
    async def set_password(self, form: dict[str, Any]) -> EventSpec | None:
        """Check the two entries, use up the link, store the new password (audited)."""
        password, again = str(form.get("password", "")), str(form.get("again", ""))
        self._link = self._link or self.router.url.query_parameters.get("link", "")
        if len(password) < MIN_PASSWORD_LENGTH or password != again:
            self.message, self.is_error = (
                f"Enter the same password twice, at least {MIN_PASSWORD_LENGTH} characters."), True
            return None
        found = await redeem_password_link(self._link)
        if found is None:
            self.message = "This link was already used or has expired: ask your admin for a new one."
            self.is_error = True
            return None
        tenant_id, user_id = found
        async with session_scope() as session:
            user = await tenancy.set_user_password(session, tenant_id=tenant_id, user_id=user_id, password=password)
            await tenancy.end_user_sessions(session, tenant_id=tenant_id, user_id=user_id)
            await record_audit(session, tenant_id=tenant_id, actor=user.email, action="user.password_set",
                               target=f"user #{user.id} {user.email}",
                               client_ip=self.router.session.client_ip)
        self._link, self.done, self.is_error = "", True, False
        self.message = "Password set. Sign in with your email and the new password."
        return None
