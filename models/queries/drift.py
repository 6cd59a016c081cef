"""Queries for drift events: filtered pages, status changes, analysts' feedback and history.

The whitelist (`models.queries.whitelist`) and the timeline/KPI figures (`models.queries.drift_stats`)
live in sibling modules and are re-exported here, so the pages import one module. What the
detection job writes is in `models.queries.drift_store`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.bulk import insert_rows
from models.drift import EVENT_KINDS, EVENT_STATUSES, SEVERITIES, VERDICTS, DriftEvent, Feedback
from models.errors import Invalid, NotFound
from models.incidents import IncidentEvent
from models.ops import AuditLog
from models.queries.audit import record_audit
from models.queries.drift_stats import drift_kpis, drift_timeline
from models.queries.filters import MAX_PAGE, MAX_TEXT, SEVERITY_RANK, as_utc, check_choice
from models.queries.whitelist import create_whitelist, delete_whitelist, list_whitelist
from models.tenancy import User
from models.types import utcnow

__all__ = [
    "SORT_KEYS", "add_feedback", "create_whitelist", "delete_whitelist", "drift_kpis", "drift_timeline",
    "event_history", "event_target", "get_event", "list_events", "list_whitelist", "set_event_status",
    "set_status_matching",
]

# "window_start": the flow window an event was found in (the table's Window column); "created_at": detection time
SORT_KEYS = ("risk", "window_start", "created_at", "kind", "severity")
# One bulk change by filter touches at most this many events (the confirmation names the count first).
MAX_BULK = 50_000
BULK_CHUNK = 5_000
AUDIT_COLUMNS = ("tenant_id", "actor", "action", "target", "before", "after", "client_ip", "created_at")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(
    tenant_id: int, snapshot_id: int | None, kind: str | None, status: str | None, severity: str | None,
    min_risk: int | None, text: str | None, since: datetime | None, until: datetime | None,
) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [col(DriftEvent.tenant_id) == tenant_id]
    pairs: list[tuple[Any, Any]] = [(DriftEvent.snapshot_id, snapshot_id), (DriftEvent.kind, kind),
                                    (DriftEvent.status, status), (DriftEvent.severity, severity)]
    found += [col(column) == value for column, value in pairs if value is not None]
    if min_risk is not None:
        found.append(col(DriftEvent.risk) >= min_risk)
    if since is not None:
        found.append(col(DriftEvent.window_start) >= since)
    if until is not None:
        found.append(col(DriftEvent.window_start) < until)
    if text:
        pattern = _like(text)
        found.append(or_(*(col(c).ilike(pattern, escape="\\")
                           for c in (DriftEvent.src, DriftEvent.dst, DriftEvent.explanation))))
    return found


def _order(sort: str, descending: bool) -> list[Any]:
    keys: dict[str, Any] = {
        "risk": col(DriftEvent.risk), "created_at": col(DriftEvent.created_at), "kind": col(DriftEvent.kind),
        "window_start": col(DriftEvent.window_start),
        "severity": sa.case(SEVERITY_RANK, value=col(DriftEvent.severity), else_=0),
    }
    key, tie = keys[sort], col(DriftEvent.id)
    return [key.desc(), tie.desc()] if descending else [key.asc(), tie.asc()]


def _checked_conditions(
    tenant_id: int, snapshot_id: int | None, kind: str | None, status: str | None, severity: str | None,
    min_risk: int | None, text: str | None, since: datetime | None, until: datetime | None,
) -> list[ColumnElement[bool]]:
    """The filters' conditions after checking them (Invalid with a message for the user)."""
    check_choice("kind", kind, EVENT_KINDS)
    check_choice("status", status, EVENT_STATUSES)
    check_choice("severity", severity, SEVERITIES)
    if min_risk is not None and not 0 <= min_risk <= 100:
        raise Invalid("min_risk must lie between 0 and 100")
    since, until = as_utc("since", since), as_utc("until", until)
    if since is not None and until is not None and since >= until:
        raise Invalid("since must be before until")
    text = (text or "").strip()[:MAX_TEXT] or None
    return _conditions(tenant_id, snapshot_id, kind, status, severity, min_risk, text, since, until)


async def list_events(
    session: AsyncSession, *, tenant_id: int, snapshot_id: int | None = None, kind: str | None = None,
    status: str | None = None, severity: str | None = None, min_risk: int | None = None, text: str | None = None,
    since: datetime | None = None, until: datetime | None = None, sort: str = "risk", descending: bool = True,
    limit: int = 50, offset: int = 0, incident_id: int | None = None,
) -> tuple[list[DriftEvent], int]:
    """One page of the tenant's events and how many match in all.

    `since`/`until` bound the event's window start ([since, until)); `text` matches src, dst or
    the explanation, case-insensitively; `incident_id` keeps the events linked to that incident.
    Bad values raise Invalid with a message for the user.
    """
    check_choice("sort key", sort, SORT_KEYS)
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise Invalid(f"limit must lie between 1 and {MAX_PAGE} and offset must not be negative")
    where = _checked_conditions(tenant_id, snapshot_id, kind, status, severity, min_risk, text, since, until)
    if incident_id is not None:
        where.append(col(DriftEvent.id).in_(select(IncidentEvent.event_id).where(
            IncidentEvent.tenant_id == tenant_id, IncidentEvent.incident_id == incident_id)))
    total = (await session.exec(select(func.count()).select_from(DriftEvent).where(*where))).one()
    query = select(DriftEvent).where(*where).order_by(*_order(sort, descending)).limit(limit).offset(offset)
    return list(await session.exec(query)), int(total)


async def get_event(session: AsyncSession, *, tenant_id: int, event_id: int) -> DriftEvent:
    """One of the tenant's drift events."""
    row = (
        await session.exec(select(DriftEvent).where(DriftEvent.tenant_id == tenant_id, DriftEvent.id == event_id))
    ).first()
    if row is None:
        raise NotFound(f"drift event {event_id} not found")
    return row


def event_target(event_id: int | None) -> str:
    """The audit target of an event, by which its history is read back."""
    return f"drift_event:{event_id}"


def _mark(row: DriftEvent, status: str, actor: str) -> None:
    row.status, row.status_by, row.status_at = status, actor[:254], utcnow()


async def set_event_status(
    session: AsyncSession, *, tenant_id: int, event_ids: list[int], status: str, actor: str
) -> list[DriftEvent]:
    """Set the status of some of the tenant's events, all or none; each real change is audited.

    Events already in `status` are returned untouched. NotFound names the first id that is not
    the tenant's.
    """
    check_choice("status", status, EVENT_STATUSES)
    ids = list(dict.fromkeys(event_ids))
    if not ids or len(ids) > MAX_PAGE:
        raise Invalid(f"choose between 1 and {MAX_PAGE} events")
    query = select(DriftEvent).where(DriftEvent.tenant_id == tenant_id, col(DriftEvent.id).in_(ids))
    found = {row.id: row for row in await session.exec(query.with_for_update())}
    missing = next((i for i in ids if i not in found), None)
    if missing is not None:
        raise NotFound(f"drift event {missing} not found")
    for row in found.values():
        if row.status == status:
            continue
        before = {"status": row.status}
        _mark(row, status, actor)
        session.add(row)
        await record_audit(session, tenant_id=tenant_id, actor=actor, action="drift_event.status",
                           target=event_target(row.id), before=before, after={"status": status})
    return [found[i] for i in ids]


async def add_feedback(
    session: AsyncSession, *, tenant_id: int, event_id: int, verdict: str, actor: str, user_id: int | None,
    note: str = "",
) -> DriftEvent:
    """Record an analyst's verdict; a false positive also closes the event as `false_positive`.

    Verdicts feed the scoring of later windows' events with the same pattern (audited).
    """
    check_choice("verdict", verdict, VERDICTS)
    row = await get_event(session, tenant_id=tenant_id, event_id=event_id)
    if user_id is not None:
        found = await session.exec(select(User.id).where(User.tenant_id == tenant_id, User.id == user_id))
        if found.first() is None:
            raise NotFound(f"user {user_id} not found")
    note = note.strip()[:2000]
    session.add(Feedback(tenant_id=tenant_id, event_id=event_id, verdict=verdict, user_id=user_id, note=note))
    before = {"status": row.status}
    if verdict == "false_positive" and row.status != "false_positive":
        _mark(row, "false_positive", actor)
        session.add(row)
    await record_audit(session, tenant_id=tenant_id, actor=actor, action="drift_event.feedback",
                       target=event_target(event_id), before=before,
                       after={"status": row.status, "verdict": verdict, "note": note})
    return row


def _history_entry(entry: AuditLog) -> dict[str, Any]:
    before, after = entry.before.get("status"), entry.after.get("status")
    if entry.action == "drift_event.feedback":
        verdict = str(entry.after.get("verdict", "")).replace("_", " ")
        note = entry.after.get("note") or ""
        moved = f" (status {before} → {after})" if before != after else ""
        return {"at": entry.created_at.isoformat(), "actor": entry.actor, "action": "feedback",
                "detail": f"{verdict}{': ' + note if note else ''}{moved}"}
    return {"at": entry.created_at.isoformat(), "actor": entry.actor, "action": "status",
            "detail": f"{before} → {after}"}


async def event_history(session: AsyncSession, *, tenant_id: int, event_id: int) -> list[dict[str, Any]]:
    """Status changes and feedback of one event, newest first, ending with its detection."""
    row = await get_event(session, tenant_id=tenant_id, event_id=event_id)
    query = (
        select(AuditLog).where(AuditLog.tenant_id == tenant_id, AuditLog.target == event_target(event_id))
        .where(col(AuditLog.action).in_(("drift_event.status", "drift_event.feedback")))
        .order_by(col(AuditLog.id).desc())
    )
    history = [_history_entry(entry) for entry in await session.exec(query)]
    detail = f"{row.kind}, risk {row.risk} ({row.severity})"
    if row.evidence.get("whitelist"):
        detail += f"; suppressed by whitelist: {row.evidence['whitelist'].get('reason') or 'no reason given'}"
    history.append({"at": row.created_at.isoformat(), "actor": "detector", "action": "detected", "detail": detail})
    return history


async def count_matching(
    session: AsyncSession, *, tenant_id: int, kind: str | None = None, status: str | None = None,
    severity: str | None = None, min_risk: int | None = None, text: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> tuple[int, int]:
    """How many events match the filters (as `list_events` takes them) and the highest id among them (0 when
    none): a bulk change by filter is confirmed on this count and touches no event that arrives after it."""
    where = _checked_conditions(tenant_id, None, kind, status, severity, min_risk, text, since, until)
    count, upto = (await session.exec(select(func.count(), func.max(DriftEvent.id)).where(*where))).one()
    return int(count), int(upto or 0)


async def set_status_matching(
    session: AsyncSession, *, tenant_id: int, new_status: str, actor: str, upto_id: int, kind: str | None = None,
    status: str | None = None, severity: str | None = None, min_risk: int | None = None, text: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> int:
    """Set `new_status` on every event matching the filters with an id up to `upto_id` (the one the count was
    confirmed on); each real change audited as `set_event_status` does. Returns how many changed."""
    check_choice("status", new_status, EVENT_STATUSES)
    where = _checked_conditions(tenant_id, None, kind, status, severity, min_risk, text, since, until)
    where += [col(DriftEvent.id) <= upto_id, col(DriftEvent.status) != new_status]
    query = select(DriftEvent.id, DriftEvent.status).where(*where).order_by(col(DriftEvent.id))
    found = list(await session.exec(query.limit(MAX_BULK + 1).with_for_update()))
    if len(found) > MAX_BULK:
        raise Invalid(f"a bulk change touches at most {MAX_BULK:,} events: narrow the filters")
    if not found:
        return 0
    now, actor = utcnow(), actor[:254]
    ids = [event_id for event_id, _ in found]
    # in chunks: PostgreSQL takes at most 32,767 parameters in one statement
    for start in range(0, len(ids), BULK_CHUNK):
        await session.exec(sa.update(DriftEvent)
                           .where(col(DriftEvent.tenant_id) == tenant_id,
                                  col(DriftEvent.id).in_(ids[start:start + BULK_CHUNK]))
                           .values(status=new_status, status_by=actor, status_at=now)
                           .execution_options(synchronize_session="fetch"))
    audits = [{"tenant_id": tenant_id, "actor": actor, "action": "drift_event.status", "target": event_target(i),
               "before": {"status": before}, "after": {"status": new_status}, "client_ip": "", "created_at": now}
              for i, before in found]
    await insert_rows(session, AuditLog, AUDIT_COLUMNS, audits)
    return len(found)
