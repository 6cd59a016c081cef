"""What the drift job reads and writes: neighbouring snapshots, verdicts, and a snapshot's events.

Idempotency rule of `replace_snapshot_events` (detection may run any number of times per snapshot):

- an event is identified within its snapshot by its signature `kind|src|dst|port|protocol`;
- an event detected again keeps its id, `created_at`, feedback and, when an analyst set its
  status (`status_by` not empty), that status; risk, severity, reasons, explanation and evidence
  take the new values, and an untouched status follows the engine (`open` or `suppressed`);
- an event no longer detected is deleted, unless analysts worked on it (status set or feedback
  given): then it stays as it was, so no verdict or audited decision loses its subject;
- new events are inserted.

Two jobs write events for the same snapshot: drift (`origin='drift'`) and detection (`origin='detect'`, its
findings). Each run replaces only its own origin's events; signatures are unique per snapshot and origin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.bulk import insert_rows, reserve_ids
from models.drift import EVENT_ORIGINS, DriftEvent, Feedback
from models.graph import Snapshot
from models.types import utcnow

MAX_VERDICTS = 20_000
_ENGINE_FIELDS = ("severity", "reasons", "explanation", "evidence")
_COLUMNS = tuple(DriftEvent.__table__.c.keys())  # type: ignore[attr-defined]


@dataclass
class EventChanges:
    """The outcome of persisting one detection run."""

    inserted: list[dict[str, Any]] = field(default_factory=list)  # column values of the new events, ids set
    updated: int = 0  # detected again with other values (unchanged ones are not counted)
    removed: int = 0
    kept: int = 0


async def prior_snapshots(session: AsyncSession, *, tenant_id: int, before: datetime, limit: int) -> list[Snapshot]:
    """The tenant's ready snapshots whose window starts before `before`, newest first."""
    query = (
        select(Snapshot).where(Snapshot.tenant_id == tenant_id, Snapshot.status == "ready")
        .where(col(Snapshot.window_start) < before).order_by(col(Snapshot.window_start).desc()).limit(limit)
    )
    return list(await session.exec(query))


async def later_snapshots(session: AsyncSession, *, tenant_id: int, after: datetime, limit: int) -> list[Snapshot]:
    """The tenant's ready snapshots whose window starts after `after`, oldest first."""
    query = (
        select(Snapshot).where(Snapshot.tenant_id == tenant_id, Snapshot.status == "ready")
        .where(col(Snapshot.window_start) > after).order_by(col(Snapshot.window_start)).limit(limit)
    )
    return list(await session.exec(query))


async def list_verdicts(
    session: AsyncSession, *, tenant_id: int, before: datetime, limit: int = MAX_VERDICTS
) -> list[dict[str, Any]]:
    """Analysts' latest verdict per event of windows before `before`: the event's edge key and verdict."""
    query = (
        select(Feedback.event_id, Feedback.verdict, DriftEvent)
        .join(DriftEvent, col(DriftEvent.id) == col(Feedback.event_id))
        .where(Feedback.tenant_id == tenant_id, DriftEvent.tenant_id == tenant_id)
        .where(col(DriftEvent.window_start) < before)
        .order_by(col(Feedback.id).desc()).limit(limit)
    )
    latest: dict[int, dict[str, Any]] = {}
    for event_id, verdict, event in await session.exec(query):
        latest.setdefault(event_id, {"kind": event.kind, "src": event.src, "dst": event.dst,
                                     "dst_port": event.dst_port, "protocol": event.protocol, "verdict": verdict})
    return list(latest.values())


def _risk(value: float) -> int:
    return min(100, max(0, int(value + 0.5)))


def _refresh(row: DriftEvent, event: Mapping[str, Any]) -> bool:
    """Take the engine's new values; True when anything changed (only then is the row written)."""
    values = {name: event[name] for name in _ENGINE_FIELDS} | {"risk": _risk(float(event["risk"]))}
    if not row.status_by:
        values["status"] = event["status"]
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    for name, value in changed.items():
        setattr(row, name, value)
    return bool(changed)


def _new_row(
    tenant_id: int, snapshot_id: int, window_start: datetime, event: Mapping[str, Any], now: datetime, origin: str
) -> dict[str, Any]:
    """A new event's column values (`id` comes when it is inserted)."""
    return {
        "id": None, "tenant_id": tenant_id, "snapshot_id": snapshot_id, "window_start": window_start,
        "signature": event["signature"], "kind": event["kind"], "src": event["src"][:300], "dst": event["dst"][:300],
        "dst_port": event["dst_port"], "protocol": event["protocol"][:16], "severity": event["severity"],
        "risk": _risk(float(event["risk"])), "reasons": list(event["reasons"]), "evidence": dict(event["evidence"]),
        "explanation": event["explanation"], "status": event["status"], "status_by": "", "status_at": None,
        "created_at": now, "origin": origin, "policy_id": event.get("policy_id"),
    }


async def _worked_ids(session: AsyncSession, tenant_id: int, rows: Sequence[DriftEvent]) -> set[int]:
    """Ids among `rows` that analysts touched: a status they set, or feedback."""
    touched = {row.id for row in rows if row.status_by and row.id is not None}
    ids = [row.id for row in rows]
    query = select(Feedback.event_id).where(Feedback.tenant_id == tenant_id, col(Feedback.event_id).in_(ids))
    return touched | set(await session.exec(query))


async def replace_snapshot_events(
    session: AsyncSession, *, tenant_id: int, snapshot_id: int, window_start: datetime,
    events: Sequence[Mapping[str, Any]], origin: str = "drift",
) -> EventChanges:
    """Persist one run's events of `origin` for a snapshot (see the module's idempotency rule); the other
    origin's events of the snapshot are left alone.

    `events` are the engine's `DriftEventRecord.to_dict()` values (or detection's findings in that shape),
    highest risk first.
    """
    if origin not in EVENT_ORIGINS:
        raise ValueError(f"unknown event origin {origin!r}: choose one of {', '.join(EVENT_ORIGINS)}")
    query = select(DriftEvent).where(DriftEvent.tenant_id == tenant_id, DriftEvent.snapshot_id == snapshot_id,
                                     DriftEvent.origin == origin)
    existing = {row.signature: row for row in await session.exec(query.with_for_update())}
    changes, now = EventChanges(), utcnow()
    seen: set[str] = set()
    for event in events:
        signature = event["signature"]
        if signature in seen:
            continue
        seen.add(signature)
        if signature in existing:
            if _refresh(existing[signature], event):
                session.add(existing[signature])
                changes.updated += 1
        else:
            changes.inserted.append(_new_row(tenant_id, snapshot_id, window_start, event, now, origin))
    gone = [row for signature, row in existing.items() if signature not in seen]
    worked = await _worked_ids(session, tenant_id, gone) if gone else set()
    doomed = [row.id for row in gone if row.id not in worked]
    if doomed:
        doomed_rows = delete(DriftEvent).where(col(DriftEvent.tenant_id) == tenant_id, col(DriftEvent.id).in_(doomed))
        await session.exec(doomed_rows)
    changes.removed, changes.kept = len(doomed), len(gone) - len(doomed)
    await _insert(session, changes.inserted)
    await session.flush()
    return changes


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert new events (column values) and give each its id.

    PostgreSQL: ids taken from the sequence, then one COPY (a run may insert thousands; building
    ORM objects and flushing them took ~0.5 s per 2,000). SQLite: the ORM.
    """
    ids = await reserve_ids(session, DriftEvent, len(rows))
    if ids is not None:
        for row, event_id in zip(rows, ids, strict=True):
            row["id"] = event_id
        await insert_rows(session, DriftEvent, _COLUMNS, rows)
        return
    models = [DriftEvent(**row) for row in rows]
    session.add_all(models)
    await session.flush()
    for row, model in zip(rows, models, strict=True):
        row["id"] = model.id


async def severity_counts(session: AsyncSession, *, tenant_id: int, snapshot_id: int) -> dict[str, int]:
    """How many events of each severity one snapshot has."""
    query = (
        select(DriftEvent.severity, func.count())
        .where(DriftEvent.tenant_id == tenant_id, DriftEvent.snapshot_id == snapshot_id)
        .group_by(col(DriftEvent.severity))
    )
    return {severity: int(n) for severity, n in await session.exec(query)}
