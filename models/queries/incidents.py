"""Queries for incidents: ranked pages, one incident and its events, analysts' status changes and verdicts, and
the Overview's counts. What the detection job writes (upsert, links, the open incidents, the verdicts it ranks
with) is in `models.queries.incident_store`, re-exported here so pages, REST and jobs import one module.

An incident's status carries over to its events in the same transaction (they share the five statuses), with
one audit entry per incident (`incident.status`, `incident.feedback`, target `incident:{id}`) that counts the
events it moved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import insert, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import EVENT_KINDS, SEVERITIES, VERDICTS, DriftEvent, Feedback
from models.errors import Invalid, NotFound
from models.incidents import DIRECTIONS, INCIDENT_STATUSES, Incident, IncidentEvent, IncidentFeedback
from models.queries.audit import record_audit
from models.queries.filters import MAX_PAGE, MAX_TEXT, SEVERITY_RANK, as_utc, check_choice
from models.queries.incident_store import (
    last_seen_of,
    link_events,
    linked_count,
    open_incidents,
    ranking_feedback,
    upsert_incidents,
)
from models.tenancy import User
from models.types import UTCDateTime, utcnow

__all__ = [
    "add_incident_feedback", "get_incident", "incident_counts", "incident_events", "incident_target",
    "last_seen_of", "link_events", "linked_count", "list_incidents", "open_incidents", "ranking_feedback",
    "set_incident_status", "upsert_incidents",
]



def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise Invalid(f"limit must lie between 1 and {MAX_PAGE} and offset must not be negative")


def incident_target(incident_id: int | None) -> str:
    """The audit target of an incident, by which its history is read back."""
    return f"incident:{incident_id}"


def _conditions(
    tenant_id: int, filters: dict[str, Any], since: datetime | None, until: datetime | None, q: str | None,
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [col(Incident.tenant_id) == tenant_id]
    found += [col(getattr(Incident, name)) == value for name, value in filters.items() if value is not None]
    if since is not None:
        found.append(col(Incident.last_seen) >= since)
    if until is not None:
        found.append(col(Incident.first_seen) < until)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found.append(or_(*(col(c).ilike(pattern, escape="\\")
                           for c in (Incident.entity, Incident.summary, Incident.service))))
    return found


async def list_incidents(
    session: AsyncSession, *, tenant_id: int, status: str | None = None, kind: str | None = None,
    direction: str | None = None, severity: str | None = None, min_score: float | None = None,
    since: datetime | None = None, until: datetime | None = None, q: str | None = None, limit: int = 50,
    offset: int = 0,
) -> tuple[list[Incident], int]:
    """One page of the tenant's incidents in rank order (score, severity, last seen; newest id on ties) and how
    many match in all.

    `since`/`until` keep the incidents active in [since, until): last seen at or after `since`, first seen before
    `until`. `q` matches entity, summary or service, case-insensitively. Bad values raise Invalid.
    """
    for name, value, allowed in (("status", status, INCIDENT_STATUSES), ("kind", kind, EVENT_KINDS),
                                 ("direction", direction, DIRECTIONS), ("severity", severity, SEVERITIES)):
        check_choice(name, value, allowed)
    if min_score is not None and not 0 <= min_score <= 100:
        raise Invalid("min_score must lie between 0 and 100")
    _page(limit, offset)
    since, until = as_utc("since", since), as_utc("until", until)
    if since is not None and until is not None and since >= until:
        raise Invalid("since must be before until")
    q = (q or "").strip()[:MAX_TEXT] or None
    filters = {"status": status, "kind": kind, "direction": direction, "severity": severity}
    where = _conditions(tenant_id, filters, since, until, q)
    if min_score is not None:
        where.append(col(Incident.score) >= min_score)
    total = (await session.exec(select(func.count()).select_from(Incident).where(*where))).one()
    order = [col(Incident.score).desc(), sa.case(SEVERITY_RANK, value=col(Incident.severity), else_=0).desc(),
             col(Incident.last_seen).desc(), col(Incident.id).desc()]
    query = select(Incident).where(*where).order_by(*order).limit(limit).offset(offset)
    return list(await session.exec(query)), int(total)


async def get_incident(session: AsyncSession, *, tenant_id: int, incident_id: int, lock: bool = False) -> Incident:
    """One of the tenant's incidents (NotFound for any other id); `lock` takes its row lock for a change."""
    query = select(Incident).where(Incident.tenant_id == tenant_id, Incident.id == incident_id)
    row = (await session.exec(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound(f"incident {incident_id} not found")
    return row


def _linked(tenant_id: int, incident_id: int) -> Any:
    return select(IncidentEvent.event_id).where(IncidentEvent.tenant_id == tenant_id,
                                                IncidentEvent.incident_id == incident_id)


async def incident_events(
    session: AsyncSession, *, tenant_id: int, incident_id: int, limit: int = 100, offset: int = 0
) -> tuple[list[DriftEvent], int]:
    """One page of an incident's events, riskiest first (newest on ties), and how many it has."""
    _page(limit, offset)
    await get_incident(session, tenant_id=tenant_id, incident_id=incident_id)
    mine = [col(DriftEvent.tenant_id) == tenant_id, col(DriftEvent.id).in_(_linked(tenant_id, incident_id))]
    total = (await session.exec(select(func.count()).select_from(DriftEvent).where(*mine))).one()
    query = (select(DriftEvent).where(*mine).order_by(col(DriftEvent.risk).desc(), col(DriftEvent.id).desc())
             .limit(limit).offset(offset))
    return list(await session.exec(query)), int(total)


async def _carry_status(session: AsyncSession, tenant_id: int, row: Incident, status: str, actor: str) -> int:
    """The incident and its events take `status`; returns how many events changed."""
    now, by = utcnow(), actor[:254]
    if row.status != status:
        row.status, row.status_by, row.status_at = status, by, now
        session.add(row)
    moved = (
        update(DriftEvent)
        .where(col(DriftEvent.tenant_id) == tenant_id, col(DriftEvent.id).in_(_linked(tenant_id, row.id or 0)),
               col(DriftEvent.status) != status)
        .values(status=status, status_by=by, status_at=now)
        .execution_options(synchronize_session="fetch")
    )
    result = await session.exec(moved)
    return int(result.rowcount or 0)


async def set_incident_status(
    session: AsyncSession, *, tenant_id: int, incident_id: int, status: str, by: str
) -> Incident:
    """Set an incident's status (open, acknowledged, resolved, false_positive, suppressed); its linked events take
    the same status in the same transaction. Audited (`incident.status`) when anything changed."""
    check_choice("status", status, INCIDENT_STATUSES)
    row = await get_incident(session, tenant_id=tenant_id, incident_id=incident_id, lock=True)
    before = row.status
    moved = await _carry_status(session, tenant_id, row, status, by)
    if before != status or moved:
        await record_audit(session, tenant_id=tenant_id, actor=by, action="incident.status",
                           target=incident_target(incident_id), before={"status": before},
                           after={"status": status, "events": moved})
    return row


async def _event_verdicts(
    session: AsyncSession, tenant_id: int, incident_id: int, verdict: str, user_id: int | None, note: str,
) -> None:
    """A drift `feedback` row per linked event, in one INSERT … SELECT (drift keeps learning per pattern)."""
    linked = sa.select(
        sa.literal(tenant_id, sa.Integer), col(IncidentEvent.event_id), sa.literal(verdict, sa.String),
        sa.literal(user_id, sa.Integer), sa.literal(note, sa.String), sa.literal(utcnow(), UTCDateTime()),
    ).where(col(IncidentEvent.tenant_id) == tenant_id, col(IncidentEvent.incident_id) == incident_id)
    table: sa.Table = Feedback.__table__  # type: ignore[attr-defined]
    columns = ["tenant_id", "event_id", "verdict", "user_id", "note", "created_at"]
    await session.exec(insert(table).from_select(columns, linked))


async def add_incident_feedback(
    session: AsyncSession, *, tenant_id: int, incident_id: int, verdict: str, note: str, user_id: int | None,
    actor: str, shape: str | None = None,
) -> Incident:
    """Record an analyst's verdict on an incident: an `incident_feedback` row (what the ranking learns from) and a
    drift `feedback` row per linked event; a false positive also sets the incident and its events to
    `false_positive`. Audited (`incident.feedback`).

    `shape` is what "an incident like this one" means for ranking (`jobs.engines.detect.ranking.shape_of`); by
    default the one the fold stored in `totals["shape"]`.
    """
    check_choice("verdict", verdict, VERDICTS)
    row = await get_incident(session, tenant_id=tenant_id, incident_id=incident_id, lock=True)
    if user_id is not None:
        found = await session.exec(select(User.id).where(User.tenant_id == tenant_id, User.id == user_id))
        if found.first() is None:
            raise NotFound(f"user {user_id} not found")
    shape = shape if shape is not None else row.totals.get("shape")
    if not isinstance(shape, str) or not shape or len(shape) > 700:
        raise Invalid(f"incident {incident_id} has no shape to file the verdict under; give one (≤ 700 characters)")
    note = note.strip()[:2000]
    session.add(IncidentFeedback(tenant_id=tenant_id, incident_id=incident_id, verdict=verdict, note=note,
                                 user_id=user_id, actor=actor[:254], key=row.key, shape=shape))
    await _event_verdicts(session, tenant_id, incident_id, verdict, user_id, note)
    before = row.status
    moved = await _carry_status(session, tenant_id, row, "false_positive", actor) if verdict == "false_positive" else 0
    await record_audit(session, tenant_id=tenant_id, actor=actor, action="incident.feedback",
                       target=incident_target(incident_id), before={"status": before},
                       after={"status": row.status, "verdict": verdict, "note": note, "events": moved})
    await session.flush()
    return row


async def incident_counts(session: AsyncSession, *, tenant_id: int, since: datetime) -> dict[str, Any]:
    """The Overview's KPIs: open incidents per severity (`open`: every severity, zeros included) and in all
    (`open_total`), and how many incidents were first reported at or after `since` (`since`)."""
    since = as_utc("since", since) or since
    query = (select(Incident.severity, func.count()).where(Incident.tenant_id == tenant_id, Incident.status == "open")
             .group_by(col(Incident.severity)))
    found = {severity: int(n) for severity, n in await session.exec(query)}
    fresh = select(func.count()).select_from(Incident).where(
        Incident.tenant_id == tenant_id, col(Incident.first_reported) >= since)
    by_severity = {severity: found.get(severity, 0) for severity in SEVERITIES}
    return {"open": by_severity, "open_total": sum(by_severity.values()),
            "since": int((await session.exec(fresh)).one())}
