"""The audit log: who did what to which target, with before and after."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.ops import AuditLog


async def record_audit(
    session: AsyncSession, *, tenant_id: int, actor: str, action: str, target: str = "",
    before: dict[str, Any] | None = None, after: dict[str, Any] | None = None, client_ip: str = "",
) -> AuditLog:
    """Append one audit entry in the caller's transaction."""
    entry = AuditLog(
        tenant_id=tenant_id, actor=actor, action=action, target=target[:300],
        before=before or {}, after=after or {}, client_ip=client_ip[:64],
    )
    session.add(entry)
    await session.flush()
    return entry


async def list_audit(
    session: AsyncSession, *, tenant_id: int, action: str | None = None, limit: int = 100, offset: int = 0
) -> list[AuditLog]:
    """The tenant's audit entries, newest first."""
    query = select(AuditLog).where(AuditLog.tenant_id == tenant_id)
    if action:
        query = query.where(AuditLog.action == action)
    query = query.order_by(col(AuditLog.id).desc()).limit(min(max(limit, 1), 1000)).offset(max(offset, 0))
    return list(await session.exec(query))
