"""Queries for the whitelist: analysts' standing decisions that some traffic is expected.

An entry suppresses matching drift events of later windows (they are kept, marked `suppressed`).
Patterns are globs on node keys (`10.0.*`, `shop/*`) or CIDRs (`10.0.0.0/8`); see
`jobs.engines.drift.whitelist` for the matching itself. Every change is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import Whitelist
from models.errors import Invalid, NotFound
from models.public.drift import WhitelistPublic
from models.queries.audit import record_audit
from models.types import utcnow

MAX_PATTERN = 300


def _pattern(name: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(f"{name} must not be empty: use * to match any endpoint")
    if len(value) > MAX_PATTERN:
        raise Invalid(f"{name} is longer than {MAX_PATTERN} characters")
    return value


def _expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    if expires_at is None:
        return None
    moment = expires_at if expires_at.tzinfo is not None else expires_at.replace(tzinfo=UTC)
    if moment <= now:
        raise Invalid("expires_at must be in the future")
    return moment


async def list_whitelist(session: AsyncSession, *, tenant_id: int) -> list[Whitelist]:
    """All of the tenant's entries, expired ones included, newest first."""
    query = select(Whitelist).where(Whitelist.tenant_id == tenant_id).order_by(col(Whitelist.id).desc())
    return list(await session.exec(query))


async def active_whitelist(session: AsyncSession, *, tenant_id: int, now: datetime) -> list[Whitelist]:
    """The tenant's entries that have not expired at `now` (what detection applies)."""
    query = select(Whitelist).where(Whitelist.tenant_id == tenant_id).where(
        or_(col(Whitelist.expires_at).is_(None), col(Whitelist.expires_at) > now)
    ).order_by(col(Whitelist.id))
    return list(await session.exec(query))


async def create_whitelist(
    session: AsyncSession, *, tenant_id: int, src_pattern: str, dst_pattern: str, port: int | None,
    expires_at: datetime | None, reason: str, author: str,
) -> Whitelist:
    """Add an entry: patterns non-empty, port 1–65535 or None (any), expiry in the future, a reason."""
    src, dst = _pattern("src_pattern", src_pattern), _pattern("dst_pattern", dst_pattern)
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
        raise Invalid("port must lie between 1 and 65535, or be empty for any port")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("a reason is required: say why this traffic is expected")
    entry = Whitelist(
        tenant_id=tenant_id, src_pattern=src, dst_pattern=dst, port=port, expires_at=_expiry(expires_at, utcnow()),
        reason=reason[:1000], author=author[:254],
    )
    session.add(entry)
    await session.flush()
    await record_audit(session, tenant_id=tenant_id, actor=author, action="whitelist.create",
                       target=f"whitelist:{entry.id}", after=WhitelistPublic.of(entry).model_dump())
    return entry


async def delete_whitelist(session: AsyncSession, *, tenant_id: int, entry_id: int, actor: str) -> None:
    """Remove one of the tenant's entries (audited with what it was)."""
    entry = (
        await session.exec(select(Whitelist).where(Whitelist.tenant_id == tenant_id, Whitelist.id == entry_id))
    ).first()
    if entry is None:
        raise NotFound(f"whitelist entry {entry_id} not found")
    before = WhitelistPublic.of(entry).model_dump()
    await session.delete(entry)
    await session.flush()
    await record_audit(session, tenant_id=tenant_id, actor=actor, action="whitelist.delete",
                       target=f"whitelist:{entry_id}", before=before)
