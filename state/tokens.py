"""API tokens on the Sources page: create (shown once), list, revoke. Admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from models.db import session_scope
from models.errors import NotFound
from models.queries import tenancy
from models.queries.audit import record_audit
from models.tenancy import ROLES, ApiToken
from state.base import AppState, guarded


def _when(stamp: datetime | None) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M") if stamp else "never"


def token_row(token: ApiToken) -> dict[str, str]:
    """A token as the table shows it (never the secret)."""
    return {
        "id": str(token.id), "name": token.name, "role": token.role, "prefix": f"{token.prefix}…",
        "created": _when(token.created_at), "last_used": _when(token.last_used_at),
        "state": "revoked" if token.revoked_at else "active",
    }


class TokensState(AppState):
    tokens: list[dict[str, str]] = []
    new_secret: str = ""
    token_message: str = ""
    confirm_revoke_id: str = ""

    @rx.var
    def can_manage_tokens(self) -> bool:
        return self.role == "admin"

    @rx.event
    @guarded("admin")
    async def load_tokens(self) -> None:
        """The tenant's tokens (admins only: the Sources page asks for them for admins)."""
        await self._reload_tokens()

    async def _reload_tokens(self) -> None:
        async with session_scope() as session:
            self.tokens = [token_row(t) for t in await tenancy.list_api_tokens(session, tenant_id=self._tenant_id)]

    @rx.event
    @guarded("admin")
    async def create_token(self, form: dict[str, Any]) -> None:
        """Create a token and show its secret once."""
        tenant_id = self._tenant_id
        name, role = str(form.get("name", "")).strip()[:80], str(form.get("role", "analyst"))
        if not name or role not in ROLES:
            self.token_message = "Give the token a name and a role."
            return
        async with session_scope() as session:
            # A token made in the browser acts for the admin who made it, and ends with their rights.
            token, secret = await tenancy.create_api_token(session, tenant_id=tenant_id, role=role, name=name,
                                                           user_id=self._user_id, created_by=self.actor)
            await record_audit(session, tenant_id=tenant_id, actor=self.actor, action="token.create",
                               target=f"token #{token.id} {name}", after={"role": role})
        self.new_secret, self.token_message = secret, f"Token “{name}” created. Copy it now: it is not shown again."
        await self._reload_tokens()

    @rx.event
    @guarded("admin")
    def ask_revoke(self, token_id: str) -> None:
        self.confirm_revoke_id = token_id

    @rx.event
    @guarded("admin")
    def cancel_revoke(self) -> None:
        self.confirm_revoke_id = ""

    @rx.event
    @guarded("admin")
    async def revoke_token(self) -> None:
        """Revoke the token the admin confirmed."""
        tenant_id = self._tenant_id
        try:
            async with session_scope() as session:
                token = await tenancy.revoke_api_token(
                    session, tenant_id=tenant_id, token_id=int(self.confirm_revoke_id)
                )
                await record_audit(session, tenant_id=tenant_id, actor=self.actor, action="token.revoke",
                                   target=f"token #{token.id} {token.name}")
        except NotFound as exc:
            self.token_message = exc.message
        except ValueError:
            self.token_message = "Choose a token to revoke."
        else:
            self.token_message = f"Token #{self.confirm_revoke_id} revoked."
        self.confirm_revoke_id = ""
        await self._reload_tokens()

    @rx.event
    @guarded("admin")
    def dismiss_secret(self) -> None:
        self.new_secret = ""
