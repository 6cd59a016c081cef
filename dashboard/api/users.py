"""`/api/v1/users`: the tenant's users for admins (list, change role, disable/enable); every change audited."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from dashboard.api.deps import Caller, DbSession
from models.errors import Invalid
from models.public.tenancy import UserPublic
from models.queries import tenancy
from models.queries.audit import record_audit
from models.tenancy import ROLES

router = APIRouter(prefix="/users")


class UserChange(BaseModel):
    role: str | None = None
    disabled: bool | None = None


@router.get("")
async def list_users(caller: Caller, session: DbSession) -> list[UserPublic]:
    """Admins: every user of the tenant, by email."""
    caller.require("admin")
    return [UserPublic.of(u) for u in await tenancy.list_users(session, tenant_id=caller.tenant_id)]


@router.patch("/{user_id}")
async def change_user(caller: Caller, session: DbSession, user_id: int, body: UserChange) -> UserPublic:
    """Admins: change a user's role and/or disable or enable them (409 for the tenant's last admin)."""
    caller.require("admin")
    if body.role is not None and body.role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
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
    return UserPublic.of(user)
