"""Drift figures for the Overview: the timeline by window and severity, and the KPIs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import SEVERITIES, DriftEvent
from models.graph import Snapshot
from models.types import utcnow

HIGH = ("high", "critical")


async def drift_timeline(
    session: AsyncSession, *, tenant_id: int, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Events per snapshot window and severity, oldest window first (severities critical → info)."""
    query = select(DriftEvent.window_start, DriftEvent.severity, func.count()).where(
        DriftEvent.tenant_id == tenant_id
    )
    if since is not None:
        query = query.where(col(DriftEvent.window_start) >= since)
    query = query.group_by(col(DriftEvent.window_start), col(DriftEvent.severity))
    rank = {name: i for i, name in enumerate(SEVERITIES)}
    rows = sorted(await session.exec(query), key=lambda r: (r[0], rank.get(r[1], len(rank))))
    return [{"bucket": window.isoformat(), "severity": severity, "count": int(n)} for window, severity, n in rows]


async def _count(session: AsyncSession, *where: Any) -> int:
    return int((await session.exec(select(func.count()).select_from(DriftEvent).where(*where))).one())


async def drift_kpis(session: AsyncSession, *, tenant_id: int) -> dict[str, Any]:
    """Open events, open high+critical, events detected in the last 24 h, snapshots, newest window, suppressed.

    `last_snapshot_at` is the start of the newest ready window (how fresh the picture is).
    """
    mine = col(DriftEvent.tenant_id) == tenant_id
    is_open = col(DriftEvent.status) == "open"
    snapshots = (await session.exec(
        select(func.count(), func.max(Snapshot.window_start)).where(
            Snapshot.tenant_id == tenant_id, Snapshot.status == "ready")
    )).one()
    newest: datetime | None = snapshots[1]
    return {
        "open": await _count(session, mine, is_open),
        "open_high": await _count(session, mine, is_open, col(DriftEvent.severity).in_(HIGH)),
        "events_24h": await _count(session, mine, col(DriftEvent.created_at) >= utcnow() - timedelta(hours=24)),
        "snapshots": int(snapshots[0]),
        "last_snapshot_at": newest.isoformat() if newest else None,
        "suppressed": await _count(session, mine, col(DriftEvent.status) == "suppressed"),
    }
