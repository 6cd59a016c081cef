"""`/api/v1/users`: the tenant's users for admins (list, change role, disable/enable); every change audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from dashboard.api.deps import Caller, DbSession
from dashboard.api.errors import ApiError
from models.queries import tenancy
from models.queries.audit import record_audit
from models.tenancy import ROLES, User

router = APIRouter(prefix="/users")


class UserChange(BaseModel):
    role: str | None = None
    disabled: bool | None = None


def user_public(user: User) -> dict[str, Any]:
    """A user as the API answers it (never the password hash)."""
    return {
        "id": user.id, "email": user.email, "display_name": user.display_name, "role": user.role,
        "disabled": user.disabled, "sso": user.oidc_subject is not None,
        "created_at": user.created_at.isoformat(),
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


@router.get("")
async def list_users(caller: Caller, session: DbSession) -> list[dict[str, Any]]:
    """Admins: every user of the tenant, by email."""
    caller.require("admin")
    return [user_public(u) for u in await tenancy.list_users(session, tenant_id=caller.tenant_id)]


@router.patch("/{user_id}")
async def change_user(caller: Caller, session: DbSession, user_id: int, body: UserChange) -> dict[str, Any]:
    """Admins: change a user's role and/or disable or enable them (409 for the tenant's last admin)."""
    caller.require("admin")
    if body.role is not None and body.role not in ROLES:
        raise ApiError(422, "invalid_request", f"role must be one of {', '.join(ROLES)}")
    user = await tenancy.get_user(session, tenant_id=caller.tenant_id, user_id=user_id)
    if body.role is not None and body.role != user.role:
        user, before = await tenancy.set_user_role(session, tenant_id=caller.tenant_id, user_id=user_id,
                                                   role=body.role)
        await record_audit(session, tenant_id=caller.tenant_id, actor=caller.actor, action="user.role",
                           target=f"user #{user.id} {user.email}", before={"role": before}, after={"role": user.role})
    if body.disabled is not None and body.disabled != user.disabled:
        user = await tenancy.set_user_disabled(session, tenant_id=caller.tenant_id, user_id=user_id,
                                               disabled=body.disabled)
        await record_audit(session, tenant_id=caller.tenant_id, actor=caller.actor,
                           action="user.disable" if body.disabled else "user.enable",
                           target=f"user #{user.id} {user.email}")
    return user_public(user)
