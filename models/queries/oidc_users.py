"""Users who sign in through OpenID Connect: created at first login, their role kept in step with the claims.

The provider is the source of truth for an SSO user's role: each login applies the role its claims map to.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import Conflict, Forbidden
from models.queries import tenancy
from models.queries.audit import record_audit
from models.tenancy import User
from models.types import utcnow


@dataclass(frozen=True)
class SsoLogin:
    user: User
    created: bool
    previous_role: str | None


async def _by_subject(session: AsyncSession, *, subject: str) -> User | None:
    # The subject is unique at the one configured issuer; the caller's tenant is checked right after.
    return (await session.exec(select(User).where(User.oidc_subject == subject))).first()


async def _by_email(session: AsyncSession, *, email: str) -> User | None:
    return (await session.exec(select(User).where(User.email == email))).first()


async def _link_existing(session: AsyncSession, *, tenant_id: int, user: User, email_verified: bool) -> None:
    """Attach an SSO subject to a local account with the same email, only when that is safe."""
    if user.tenant_id != tenant_id or user.oidc_subject is not None:
        raise Conflict("an account with this email address already exists; ask an administrator")
    if not email_verified:
        raise Conflict("an account with this email exists and the provider has not verified your email")


async def provision_sso_user(
    session: AsyncSession, *, tenant_id: int, subject: str, email: str, email_verified: bool,
    display_name: str, role: str,
) -> SsoLogin:
    """The user for a verified SSO identity in `tenant_id`: created, linked or updated; refuses disabled users.

    Raises Forbidden (disabled, or the subject belongs to another tenant) and Conflict (email taken) before any
    write, so a refusal leaves nothing behind.
    """
    user = await _by_subject(session, subject=subject)
    created, previous_role = False, None
    if user is not None and user.tenant_id != tenant_id:
        raise Forbidden("your account belongs to another tenant; ask an administrator to move it")
    if user is None:
        user = await _by_email(session, email=email)
        if user is not None:
            await _link_existing(session, tenant_id=tenant_id, user=user, email_verified=email_verified)
    if user is not None and user.disabled:
        raise Forbidden("your account is disabled")
    if user is None:
        user = await tenancy.create_user(
            session, tenant_id=tenant_id, email=email, role=role, password=None, display_name=display_name
        )
        created = True
        await record_audit(session, tenant_id=tenant_id, actor=email, action="user.create",
                           target=f"user #{user.id} {user.email}", after={"role": role, "via": "sso"})
    elif user.role != role:
        previous_role = user.role
        await record_audit(session, tenant_id=tenant_id, actor=email, action="user.role",
                           target=f"user #{user.id} {user.email}", before={"role": user.role},
                           after={"role": role, "via": "sso"})
        user.role = role
    user.oidc_subject = subject
    user.last_login_at = utcnow()
    session.add(user)
    await session.flush()
    return SsoLogin(user=user, created=created, previous_role=previous_role)
