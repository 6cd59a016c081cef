"""What a report of one tenant's period [start, end) reads (issue 18 item 4): the incidents active in it (top by
score, with counts over all of them), the drift events and snapshots of its windows, the outside addresses first
contacted in it (`new_external` events), policy versions created, reviewed or released in it, and its newest
ready snapshot (for the graph picture). Every function takes the tenant. `jobs.reports` builds the report from
these and the graph and enrichment stores."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import DriftEvent
from models.graph import Snapshot
from models.incidents import Incident
from models.policy import Policy, PolicyReview

MAX_PEER_EVENTS = 50_000  # new_external events read per report; the counts say when there were more


@dataclass(frozen=True, slots=True)
class PeerRow:
    address: str
    first_seen: datetime
    events: int
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolicyRow:
    policy: Policy
    at: datetime
    by: str


@dataclass(slots=True)
class PeriodCounts:
    incidents: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    events: int = 0
    snapshots: int = 0


def _active(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    """Incidents seen in the period: last seen at or after its start and first seen before its end."""
    return sa.and_(col(Incident.last_seen) >= start, col(Incident.first_seen) < end)


async def period_incidents(
    session: AsyncSession, *, tenant_id: int, start: datetime, end: datetime, limit: int
) -> list[Incident]:
    """The period's incidents, highest score first (then worst peak risk, newest)."""
    query = (select(Incident).where(Incident.tenant_id == tenant_id, _active(start, end))
             .order_by(col(Incident.score).desc(), col(Incident.peak_risk).desc(), col(Incident.last_seen).desc(),
                       col(Incident.id)).limit(limit))
    return list(await session.exec(query))


async def period_counts(session: AsyncSession, *, tenant_id: int, start: datetime, end: datetime) -> PeriodCounts:
    """Incidents by severity and kind, drift events and ready snapshots whose window starts in the period."""
    counts = PeriodCounts()
    grouped = select(Incident.severity, Incident.kind, func.count()).where(
        Incident.tenant_id == tenant_id, _active(start, end)).group_by(col(Incident.severity), col(Incident.kind))
    for severity, kind, number in await session.exec(grouped):
        counts.incidents += int(number)
        counts.by_severity[severity] = counts.by_severity.get(severity, 0) + int(number)
        counts.by_kind[kind] = counts.by_kind.get(kind, 0) + int(number)
    events = select(func.count()).select_from(DriftEvent).where(
        DriftEvent.tenant_id == tenant_id, col(DriftEvent.window_start) >= start, col(DriftEvent.window_start) < end)
    counts.events = int((await session.exec(events)).one())
    snapshots = select(func.count()).select_from(Snapshot).where(
        Snapshot.tenant_id == tenant_id, Snapshot.status == "ready",
        col(Snapshot.window_start) >= start, col(Snapshot.window_start) < end)
    counts.snapshots = int((await session.exec(snapshots)).one())
    return counts


async def new_external_peers(
    session: AsyncSession, *, tenant_id: int, start: datetime, end: datetime
) -> list[PeerRow]:
    """Outside addresses with a `new_external` event in the period: first window, events, the home sources (up to
    five), earliest first."""
    query = (select(DriftEvent.dst, DriftEvent.src, DriftEvent.window_start)
             .where(DriftEvent.tenant_id == tenant_id, DriftEvent.kind == "new_external",
                    col(DriftEvent.window_start) >= start, col(DriftEvent.window_start) < end)
             .order_by(col(DriftEvent.window_start), col(DriftEvent.id)).limit(MAX_PEER_EVENTS))
    first: dict[str, datetime] = {}
    events: Counter[str] = Counter()
    sources: dict[str, dict[str, None]] = {}
    for dst, src, window_start in await session.exec(query):
        first.setdefault(dst, window_start)
        events[dst] += 1
        sources.setdefault(dst, {})[src] = None
    return [PeerRow(address, seen, events[address], tuple(list(sources[address])[:5]))
            for address, seen in sorted(first.items(), key=lambda item: (item[1], item[0]))]


async def policy_changes(
    session: AsyncSession, *, tenant_id: int, start: datetime, end: datetime
) -> list[PolicyRow]:
    """Policy versions created or changed in the period (newest change first), each with who did it last: the
    reviewer of its latest review in the period, else its submitter."""
    changed = (select(Policy).where(Policy.tenant_id == tenant_id, col(Policy.updated_at) >= start,
                                    col(Policy.updated_at) < end).order_by(col(Policy.updated_at).desc()))
    policies = list(await session.exec(changed))
    if not policies:
        return []
    reviews = (select(PolicyReview).where(PolicyReview.tenant_id == tenant_id,
                                          col(PolicyReview.policy_id).in_([p.id for p in policies]),
                                          col(PolicyReview.created_at) >= start, col(PolicyReview.created_at) < end)
               .order_by(col(PolicyReview.created_at)))
    reviewer = {review.policy_id: review.reviewer for review in await session.exec(reviews)}
    return [PolicyRow(p, p.updated_at, reviewer.get(int(p.id or 0), p.submitted_by)) for p in policies]


async def newest_snapshot(session: AsyncSession, *, tenant_id: int, start: datetime, end: datetime) -> Snapshot | None:
    """The period's newest ready snapshot (by window start)."""
    query = (select(Snapshot).where(Snapshot.tenant_id == tenant_id, Snapshot.status == "ready",
                                    col(Snapshot.window_start) >= start, col(Snapshot.window_start) < end)
             .order_by(col(Snapshot.window_start).desc()).limit(1))
    return (await session.exec(query)).first()
