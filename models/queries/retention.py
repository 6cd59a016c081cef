"""Deleting what has outlived its retention: finished job runs and expired web sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.ops import JobRun
from models.tenancy import UserSession

FINISHED = ("succeeded", "failed", "cancelled", "lost")


async def delete_finished_runs_before(session: AsyncSession, *, tenant_id: int, before: datetime) -> int:
    """Drop the tenant's finished job runs queued before `before`; runs still in flight are kept."""
    result = await session.exec(
        delete(JobRun).where(col(JobRun.tenant_id) == tenant_id, col(JobRun.enqueued_at) < before,
                             col(JobRun.status).in_(FINISHED))
    )
    return int(result.rowcount or 0)


async def delete_expired_sessions(session: AsyncSession, *, tenant_id: int, now: datetime) -> int:
    """Drop the tenant's web sessions that expired (they are refused already; this frees the rows)."""
    result = await session.exec(
        delete(UserSession).where(col(UserSession.tenant_id) == tenant_id, col(UserSession.expires_at) <= now)
    )
    return int(result.rowcount or 0)
