"""What the detection job reads and writes of incidents: the open ones to fold into, the upsert of the fold's
result, the links from events to incidents, and the analysts' verdicts the ranking learns from.

Re-exported by `models.queries.incidents`, which the pages and REST use. Every function takes the tenant.
The upsert is `INSERT … ON CONFLICT (tenant_id, key, first_seen) DO UPDATE`, whose `SET` never names an
incident's status columns, so an analyst's decision survives every re-fold. On PostgreSQL the rows go by COPY into
a temporary table first, then one `INSERT … SELECT` (2,000 incidents: batched multi-row INSERTs took 170–340 ms,
this path fits the fold's 100 ms budget); on SQLite, batched multi-row INSERTs.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import DriftEvent
from models.errors import NotFound
from models.graph import Node
from models.incidents import ACTIVE_STATUSES, Incident, IncidentEvent, IncidentFeedback, IncidentRow
from models.queries.notification_outbox import enqueue_incident_notices
from models.types import utcnow

MAX_VERDICTS = 20_000
MAX_NAMESPACES = 100  # kept per incident (a namespace name is at most 63 characters)
CHUNK = 1000  # ids per IN (…) check: well under every backend's parameter limit
_WRITTEN = tuple(f.name for f in fields(IncidentRow))  # `totals` last: COPY sends it as JSON text
# the fold's columns; status, status_by, status_at and created_at stay as the row has them
_REFRESHED = (*(name for name in _WRITTEN if name not in ("key", "first_seen")), "updated_at")
_INCIDENT: sa.Table = Incident.__table__  # type: ignore[attr-defined]
_LINK: sa.Table = IncidentEvent.__table__  # type: ignore[attr-defined]
_STAGE = "incident_upsert_stage"


async def _insert_of(session: AsyncSession, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite ≥ 3.35 alike)."""
    dialect = (await session.connection()).dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"incidents are stored on PostgreSQL or SQLite, not {dialect}")


def _unique(pairs: Sequence[tuple[Any, Any]], what: str) -> None:
    seen: set[Any] = set()
    for pair in pairs:
        if pair[0] in seen:
            raise ValueError(f"{what} {pair[0]!r} is given twice")
        seen.add(pair[0])


async def upsert_incidents(
    session: AsyncSession, *, tenant_id: int, rows: Sequence[IncidentRow]
) -> dict[tuple[str, datetime], int]:
    """Insert or update the tenant's incidents on (key, first_seen); returns their ids by (key, first_seen).

    A new incident starts `open`; an existing one takes every column of its `IncidentRow` and keeps its status,
    `status_by`, `status_at` and `created_at`. Each (key, first_seen) may appear once per call.
    """
    if not rows:
        return {}
    _unique([((row.key, row.first_seen), row) for row in rows], "incident (key, first_seen)")
    now = utcnow()
    fixed = {"tenant_id": tenant_id, "status": "open", "status_by": "", "status_at": None,
             "created_at": now, "updated_at": now, "namespaces": []}
    insert = await _insert_of(session, _INCIDENT)
    values: list[dict[str, Any]] | None = None
    if isinstance(insert, postgresql.Insert):
        insert = await _staged(session, insert, rows, fixed)
    else:
        values = [row.values() | fixed for row in rows]
    statement = insert.on_conflict_do_update(
        index_elements=["tenant_id", "key", "first_seen"],
        set_={name: insert.excluded[name] for name in _REFRESHED},
    ).returning(_INCIDENT.c.id, _INCIDENT.c.key, _INCIDENT.c.first_seen)
    result = await session.exec(statement, params=values)
    ids = {(key, first_seen): int(incident_id) for incident_id, key, first_seen in result}
    # the notices go in the change's own transaction, so neither is ever lost without the other (issue 18)
    await enqueue_incident_notices(session, tenant_id=tenant_id, incident_ids=list(ids.values()))
    return ids


async def _staged(
    session: AsyncSession, insert: postgresql.Insert, rows: Sequence[IncidentRow], fixed: dict[str, Any]
) -> Any:
    """PostgreSQL: the rows COPied into a temporary table (dropped at commit), and the INSERT … SELECT of them
    with the columns every row shares (`fixed`) as parameters."""
    connection = await session.connection()
    await connection.execute(sa.text(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DROP AS "
        f"SELECT {', '.join(_WRITTEN)} FROM incident WITH NO DATA"))
    await connection.execute(sa.text(f"TRUNCATE {_STAGE}"))  # a second upsert in the same transaction
    plain = operator.attrgetter(*_WRITTEN[:-1])
    records = [(*plain(row), json.dumps(dict(row.totals))) for row in rows]
    raw = (await connection.get_raw_connection()).driver_connection
    await raw.copy_records_to_table(_STAGE, records=records, columns=list(_WRITTEN))  # type: ignore[union-attr]
    stage = sa.table(_STAGE, *(sa.column(c) for c in _WRITTEN))
    shared = [sa.literal(value, _INCIDENT.c[name].type) for name, value in fixed.items()]
    return insert.from_select([*_WRITTEN, *fixed], sa.select(*stage.c, *shared))


async def _owned(session: AsyncSession, column: Any, tenant_column: Any, tenant_id: int, ids: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        found |= set(await session.exec(select(column).where(tenant_column == tenant_id, column.in_(chunk))))
    return found


async def link_events(session: AsyncSession, *, tenant_id: int, links: Sequence[tuple[int, int]]) -> int:
    """Link events to incidents, `(event_id, incident_id)`; returns how many links were added.

    An event already linked stays with its incident (an event folds once). NotFound names the first event or
    incident that is not the tenant's; an event given twice in one call is refused.
    """
    if not links:
        return 0
    _unique(list(links), "event")
    for position, column, tenant_column, what in (
        (0, col(DriftEvent.id), col(DriftEvent.tenant_id), "drift event"),
        (1, col(Incident.id), col(Incident.tenant_id), "incident"),
    ):
        wanted = list(dict.fromkeys(link[position] for link in links))
        owned = await _owned(session, column, tenant_column, tenant_id, wanted)
        missing = next((i for i in wanted if i not in owned), None)
        if missing is not None:
            raise NotFound(f"{what} {missing} not found")
    insert = await _insert_of(session, _LINK)
    statement = insert.on_conflict_do_nothing(index_elements=["event_id"]).returning(_LINK.c.event_id)
    values = [{"event_id": event_id, "incident_id": incident_id, "tenant_id": tenant_id}
              for event_id, incident_id in links]
    added = [int(found[0]) for found in await session.exec(statement, params=values)]
    await _note_namespaces(session, tenant_id=tenant_id, event_ids=added)
    return len(added)


async def _note_namespaces(session: AsyncSession, *, tenant_id: int, event_ids: Sequence[int]) -> None:
    """Add to each incident the namespaces of its newly linked events' nodes (their snapshot's `node` rows)."""
    found: dict[int, set[str]] = {}
    for start in range(0, len(event_ids), CHUNK):
        chunk = event_ids[start:start + CHUNK]
        query = (
            select(IncidentEvent.incident_id, Node.namespace).distinct()
            .join(DriftEvent, col(DriftEvent.id) == col(IncidentEvent.event_id))
            .join(Node, sa.and_(col(Node.tenant_id) == tenant_id, col(Node.snapshot_id) == col(DriftEvent.snapshot_id),
                                sa.or_(col(Node.key) == col(DriftEvent.src), col(Node.key) == col(DriftEvent.dst))))
            .where(IncidentEvent.tenant_id == tenant_id, col(IncidentEvent.event_id).in_(chunk),
                   col(Node.namespace).is_not(None), col(Node.namespace) != "")
        )
        for incident_id, namespace in await session.exec(query):
            found.setdefault(int(incident_id), set()).add(str(namespace))
    if not found:
        return
    incidents = await session.exec(select(Incident).where(Incident.tenant_id == tenant_id,
                                                          col(Incident.id).in_(sorted(found))))
    for incident in incidents:
        merged = sorted(set(incident.namespaces or ()) | found[int(incident.id or 0)])[:MAX_NAMESPACES]
        if merged != incident.namespaces:
            incident.namespaces = merged
            session.add(incident)


async def open_incidents(session: AsyncSession, *, tenant_id: int, since: datetime) -> list[Incident]:
    """The tenant's incidents a new finding may continue: open, acknowledged or suppressed, last seen at or after
    `since` (the fold's `now - quiet_gap_s`); oldest first."""
    query = (
        select(Incident).where(Incident.tenant_id == tenant_id, col(Incident.status).in_(ACTIVE_STATUSES))
        .where(col(Incident.last_seen) >= since).order_by(col(Incident.first_seen), col(Incident.key))
    )
    return list(await session.exec(query))


async def ranking_feedback(session: AsyncSession, *, tenant_id: int) -> list[IncidentFeedback]:
    """The tenant's verdicts on incidents, oldest first (the newest `MAX_VERDICTS`): the rows the ranking engine's
    `Feedback(incident_id, key, shape, verdict, at=created_at)` is built from."""
    query = (
        select(IncidentFeedback).where(IncidentFeedback.tenant_id == tenant_id)
        .order_by(col(IncidentFeedback.id).desc()).limit(MAX_VERDICTS)
    )
    return list(reversed(list(await session.exec(query))))


async def last_seen_of(session: AsyncSession, *, tenant_id: int, incident_ids: Sequence[int]) -> dict[int, datetime]:
    """When each of the tenant's incidents was last seen (flow time), for the ids given that exist."""
    if not incident_ids:
        return {}
    query = select(Incident.id, Incident.last_seen).where(
        Incident.tenant_id == tenant_id, col(Incident.id).in_(sorted(set(incident_ids))))
    return {int(row[0] or 0): row[1] for row in await session.exec(query)}


async def linked_count(session: AsyncSession, *, tenant_id: int, incident_id: int) -> int:
    """How many events are linked to one of the tenant's incidents."""
    query = select(func.count()).select_from(IncidentEvent).where(
        IncidentEvent.tenant_id == tenant_id, IncidentEvent.incident_id == incident_id)
    return int((await session.exec(query)).one())
