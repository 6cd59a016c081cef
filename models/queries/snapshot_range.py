"""Ready snapshots whose window starts inside a range (for drift runs chosen by date)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.graph import Snapshot


async def ready_snapshots_between(
    session: AsyncSession, *, tenant_id: int, start: datetime, end: datetime
) -> list[Snapshot]:
    """The tenant's ready snapshots with `start <= window_start < end`, oldest first."""
    query = (select(Snapshot)
             .where(Snapshot.tenant_id == tenant_id, Snapshot.status == "ready",
                    col(Snapshot.window_start) >= start, col(Snapshot.window_start) < end)
             .order_by(col(Snapshot.window_start)))
    return list(await session.exec(query))
