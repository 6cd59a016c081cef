"""Counts that /metrics reads at scrape time, one tenant at a time."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import DriftEvent
from models.notifications import NotificationDelivery
from models.tenancy import UserSession


async def drift_event_counts(session: AsyncSession, *, tenant_id: int) -> list[tuple[str, str, int]]:
    """(kind, severity, events) of the tenant's stored drift events."""
    query = (select(DriftEvent.kind, DriftEvent.severity, func.count())
             .where(DriftEvent.tenant_id == tenant_id).group_by(DriftEvent.kind, DriftEvent.severity))
    return [(kind, severity, int(n)) for kind, severity, n in (await session.exec(query)).all()]


async def delivery_counts(session: AsyncSession, *, tenant_id: int) -> list[tuple[str, int]]:
    """(status, deliveries) of the tenant's notifier deliveries."""
    query = (select(NotificationDelivery.status, func.count())
             .where(NotificationDelivery.tenant_id == tenant_id).group_by(NotificationDelivery.status))
    return [(status, int(n)) for status, n in (await session.exec(query)).all()]


async def live_session_count(session: AsyncSession, *, tenant_id: int, now: datetime) -> int:
    """The tenant's signed-in web sessions that have not expired."""
    query = select(func.count()).select_from(UserSession).where(
        UserSession.tenant_id == tenant_id, col(UserSession.expires_at) > now)
    return int((await session.exec(query)).one())
