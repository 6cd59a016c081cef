"""Figures for the Overview: drift events by window and severity, drift KPIs, and the open incidents' start times
and severities the incident timeline bins (the same incidents the KPIs count as open)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import SEVERITIES, DriftEvent
from models.graph import Snapshot
from models.incidents import Incident
from models.queries.filters import as_utc
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


async def open_incident_extent(session: AsyncSession, *, tenant_id: int) -> tuple[datetime | None, datetime | None]:
    """The first-seen times of the tenant's oldest and newest open incidents (None, None when there is none)."""
    query = select(func.min(Incident.first_seen), func.max(Incident.first_seen)).where(
        Incident.tenant_id == tenant_id, Incident.status == "open")
    oldest, newest = (await session.exec(query)).one()
    return oldest, newest


async def open_incident_starts(
    session: AsyncSession, *, tenant_id: int, since: datetime, until: datetime
) -> list[tuple[datetime, str]]:
    """(first seen, severity) of the tenant's open incidents first seen in [since, until), for the timeline."""
    since, until = as_utc("since", since) or since, as_utc("until", until) or until
    query = select(Incident.first_seen, Incident.severity).where(
        Incident.tenant_id == tenant_id, Incident.status == "open", col(Incident.first_seen) >= since,
        col(Incident.first_seen) < until)
    return [(when, severity) for when, severity in await session.exec(query)]
