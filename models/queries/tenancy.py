"""Queries for tenants, users, web sessions and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.credentials import hash_password, hash_secret, new_secret, verify_password
from models.errors import Conflict, Invalid, NotFound
from models.tenancy import (
    ROLE_RANK,
    ROLES,
    SERVICE_MAX_ROLE,
    SERVICE_NAME,
    WINDOW_CHOICES,
    ApiToken,
    Tenant,
    User,
    UserSession,
    check_home,
    token_actor,
    token_role,
)
from models.types import utcnow


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")


async def create_tenant(session: AsyncSession, *, name: str) -> Tenant:
    """Create a tenant; the name must be new."""
    name = name.strip()
    if not name:
        raise ValueError("tenant name must not be empty")
    tenant = Tenant(name=name)
    session.add(tenant)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a tenant named {name!r} already exists") from exc
    return tenant


async def get_tenant(session: AsyncSession, *, tenant_id: int) -> Tenant:
    """The tenant with this id."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return tenant


async def list_tenant_ids(session: AsyncSession) -> list[int]:
    """Every tenant's id: only for system schedules that fan work out per tenant, never for a request."""
    return [tenant_id for tenant_id in await session.exec(select(Tenant.id).order_by(col(Tenant.id))) if tenant_id]


async def get_tenant_by_name(session: AsyncSession, *, name: str) -> Tenant:
    """The tenant with this name (CLI look-ups)."""
    tenant = (await session.exec(select(Tenant).where(Tenant.name == name))).first()
    if tenant is None:
        raise NotFound(f"no tenant named {name!r}")
    return tenant


async def create_user(
    session: AsyncSession, *, tenant_id: int, email: str, role: str, password: str | None,
    display_name: str = "",
) -> User:
    """Create a user of one tenant, with a local password when given."""
    _check_role(role)
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError(f"{email!r} is not an email address")
    user = User(
        tenant_id=tenant_id, email=email, role=role, display_name=display_name or email.split("@")[0],
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a user with email {email!r} already exists") from exc
    return user


async def get_user(session: AsyncSession, *, tenant_id: int, user_id: int) -> User:
    """The user with this id in this tenant."""
    user = (
        await session.exec(select(User).where(User.tenant_id == tenant_id, User.id == user_id))
    ).first()
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


async def get_user_any_tenant(session: AsyncSession, *, user_id: int) -> User:
    """A user by id across tenants: only for redeeming a login ticket, which names no tenant."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User | None:
    """The enabled user whose email and local password match, else None.

    Login is the one query without a tenant: the tenant is what it finds out.
    """
    user = (await session.exec(select(User).where(User.email == email.strip().lower()))).first()
    ok = verify_password(password, user.password_hash if user else None)
    if user is None or not ok or user.disabled:
        return None
    user.last_login_at = utcnow()
    session.add(user)
    return user


async def create_session(
    session: AsyncSession, *, tenant_id: int, user_id: int, idle_minutes: int,
    client_ip: str = "", user_agent: str = "",
) -> str:
    """Open a web session and return the cookie value (only its hash is stored)."""
    secret = new_secret()
    now = utcnow()
    session.add(UserSession(
        id=hash_secret(secret), tenant_id=tenant_id, user_id=user_id, created_at=now,
        last_seen_at=now, expires_at=now + timedelta(minutes=idle_minutes),
        client_ip=client_ip[:64], user_agent=user_agent[:255],
    ))
    await session.flush()
    return secret


async def resolve_session(
    session: AsyncSession, *, cookie_value: str, idle_minutes: int
) -> tuple[User, UserSession] | None:
    """The user behind a session cookie, sliding its expiry; None when unknown or expired."""
    if not cookie_value:
        return None
    row = await session.get(UserSession, hash_secret(cookie_value))
    now = utcnow()
    if row is None or row.expires_at <= now:
        return None
    user = await session.get(User, row.user_id)
    if user is None or user.disabled or user.tenant_id != row.tenant_id:
        return None
    row.last_seen_at = now
    row.expires_at = now + timedelta(minutes=idle_minutes)
    session.add(row)
    return user, row


async def delete_session(session: AsyncSession, *, cookie_value: str) -> None:
    """End a web session (logout)."""
    row = await session.get(UserSession, hash_secret(cookie_value))
    if row is not None:
        await session.delete(row)


async def _token_identity(session: AsyncSession, *, tenant_id: int, role: str, user_id: int | None,
                          service: str) -> None:
    if (user_id is None) == (not service):
        raise ValueError("a token acts for one user or one service: name exactly one")
    if user_id is None:
        if not SERVICE_NAME.match(service):
            raise ValueError(f"service name {service!r}: use 1–80 of a-z, 0-9, '.', '_', '-'")
        if ROLE_RANK[role] > ROLE_RANK[SERVICE_MAX_ROLE]:
            raise ValueError(f"a service token can be at most {SERVICE_MAX_ROLE}: a {role} token needs a user "
                             "(sg token create --user EMAIL)")
        return
    user = await get_user(session, tenant_id=tenant_id, user_id=user_id)
    if user.disabled:
        raise Conflict(f"{user.email} is disabled")
    if ROLE_RANK[role] > ROLE_RANK[user.role]:
        raise Conflict(f"{user.email} is {user.role}: their token cannot be {role}")


async def create_api_token(
    session: AsyncSession, *, tenant_id: int, role: str, name: str = "", user_id: int | None = None,
    service: str = "", created_by: str = "",
) -> tuple[ApiToken, str]:
    """A new API token of one tenant that acts for `user_id` (at most their role) or for `service` (at most
    SERVICE_MAX_ROLE); returns the row and the secret, shown only once."""
    _check_role(role)
    await _token_identity(session, tenant_id=tenant_id, role=role, user_id=user_id, service=service)
    secret = new_secret()
    token = ApiToken(
        tenant_id=tenant_id, role=role, name=name, user_id=user_id, service=service if user_id is None else "",
        created_by=created_by, token_hash=hash_secret(secret), prefix=secret[:10],
    )
    session.add(token)
    await session.flush()
    return token, secret


@dataclass(frozen=True)
class TokenIdentity:
    """An authenticated token: who it acts for and what it may do now."""

    token: ApiToken
    user: User | None
    role: str
    actor: str


async def authenticate_token(session: AsyncSession, *, secret: str) -> TokenIdentity | None:
    """The live API token for a bearer secret, stamping its last use; None when unknown, revoked, or its user
    is gone, disabled or moved. Its role is capped by the user's current role."""
    token = (
        await session.exec(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    ).first()
    if token is None or token.revoked_at is not None:
        return None
    user = await session.get(User, token.user_id) if token.user_id is not None else None
    if token.user_id is not None and (user is None or user.disabled or user.tenant_id != token.tenant_id):
        return None
    token.last_used_at = utcnow()
    session.add(token)
    return TokenIdentity(token, user, token_role(token, user), token_actor(token, user))


async def list_api_tokens(session: AsyncSession, *, tenant_id: int) -> list[ApiToken]:
    """The tenant's API tokens, newest first."""
    rows = await session.exec(
        select(ApiToken).where(ApiToken.tenant_id == tenant_id).order_by(col(ApiToken.id).desc())
    )
    return list(rows)


async def revoke_api_token(session: AsyncSession, *, tenant_id: int, token_id: int) -> ApiToken:
    """Revoke one of the tenant's tokens."""
    token = (
        await session.exec(
            select(ApiToken).where(ApiToken.tenant_id == tenant_id, ApiToken.id == token_id)
        )
    ).first()
    if token is None:
        raise NotFound(f"API token {token_id} not found")
    token.revoked_at = token.revoked_at or utcnow()
    session.add(token)
    return token


async def set_window_seconds(session: AsyncSession, *, tenant_id: int, seconds: int) -> Tenant:
    """Change the tenant's snapshot window; only the allowed sizes (5 min – 24 h)."""
    if seconds not in WINDOW_CHOICES:
        choices = ", ".join(describe_window(c) for c in WINDOW_CHOICES)
        raise ValueError(f"window must be one of {choices}")
    tenant = await get_tenant(session, tenant_id=tenant_id)
    tenant.settings = {**tenant.settings, "window_seconds": seconds}
    session.add(tenant)
    return tenant


async def set_home_networks(session: AsyncSession, *, tenant_id: int, networks: list[str], sensors: list[str],
                            home_private: bool) -> Tenant:
    """Set what the tenant calls home: its networks (CIDRs), its sensors' addresses, and whether the private
    ranges count. Entries are validated with `ipaddress`, normalised and deduplicated in their order; at most
    MAX_HOME_NETWORKS networks and MAX_SENSORS sensors. Raises Invalid naming every bad entry."""
    if not isinstance(home_private, bool):
        raise Invalid("home_private must be true or false")
    checked = check_home(networks, sensors)
    if checked.problems:
        shown = "; ".join(str(p) for p in checked.problems[:10])
        more = f"; and {len(checked.problems) - 10} more" if len(checked.problems) > 10 else ""
        raise Invalid(f"home settings not saved: {shown}{more}")
    tenant = await get_tenant(session, tenant_id=tenant_id)
    tenant.settings = {**tenant.settings, "home_networks": checked.networks, "sensors": checked.sensors,
                       "home_private": home_private}
    session.add(tenant)
    await session.flush()
    return tenant


def describe_window(seconds: int) -> str:
    """300 → "5m", 3600 → "1h"."""
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds // 60}m"


async def find_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    """The user with this email in any tenant: only to file a failed login in the right tenant's audit log."""
    return (await session.exec(select(User).where(User.email == email.strip().lower()))).first()


async def list_users(session: AsyncSession, *, tenant_id: int) -> list[User]:
    """The tenant's users, by email."""
    return list(await session.exec(select(User).where(User.tenant_id == tenant_id).order_by(col(User.email))))


async def _other_active_admins(session: AsyncSession, *, tenant_id: int, user_id: int) -> int:
    rows = await session.exec(select(User.id).where(
        User.tenant_id == tenant_id, User.role == "admin", col(User.disabled).is_(False), User.id != user_id,
    ))
    return len(list(rows))


async def set_user_role(session: AsyncSession, *, tenant_id: int, user_id: int, role: str) -> tuple[User, str]:
    """Change a user's role; refuses to demote the tenant's last enabled admin. Returns the user and the old role."""
    _check_role(role)
    user = await get_user(session, tenant_id=tenant_id, user_id=user_id)
    before = user.role
    if before == "admin" and role != "admin" and not user.disabled and not await _other_active_admins(
        session, tenant_id=tenant_id, user_id=user_id
    ):
        raise Conflict(f"{user.email} is the tenant's last admin: make another user admin first")
    user.role = role
    session.add(user)
    await session.flush()
    return user, before


async def set_user_disabled(session: AsyncSession, *, tenant_id: int, user_id: int, disabled: bool) -> User:
    """Disable (ending every session of the user) or enable a user; never the tenant's last enabled admin."""
    user = await get_user(session, tenant_id=tenant_id, user_id=user_id)
    if disabled and user.role == "admin" and not user.disabled and not await _other_active_admins(
        session, tenant_id=tenant_id, user_id=user_id
    ):
        raise Conflict(f"{user.email} is the tenant's last admin: make another user admin first")
    user.disabled = disabled
    session.add(user)
    if disabled:
        await end_user_sessions(session, tenant_id=tenant_id, user_id=user_id)
    await session.flush()
    return user


async def set_user_password(session: AsyncSession, *, tenant_id: int, user_id: int, password: str) -> User:
    """Give a user a new local password (the one-time set-password link)."""
    user = await get_user(session, tenant_id=tenant_id, user_id=user_id)
    user.password_hash = hash_password(password)
    session.add(user)
    await session.flush()
    return user


async def end_user_sessions(session: AsyncSession, *, tenant_id: int, user_id: int) -> int:
    """Sign a user out everywhere: delete all their web sessions; answers how many ended."""
    rows = list(await session.exec(
        select(UserSession).where(UserSession.tenant_id == tenant_id, UserSession.user_id == user_id)
    ))
    for row in rows:
        await session.delete(row)
    return len(rows)


async def session_user(session: AsyncSession, *, cookie_value: str) -> User | None:
    """The user of a live session cookie without sliding it (to end a pre-existing session at login)."""
    if not cookie_value:
        return None
    row = await session.get(UserSession, hash_secret(cookie_value))
    return await session.get(User, row.user_id) if row is not None else None
