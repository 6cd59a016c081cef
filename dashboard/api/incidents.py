"""`/api/v1/incidents`: the ranked list, one incident with its riskiest events, status changes and verdicts.

Viewers read; analysts (and above) change status and give verdicts. An incident's status and a false positive
carry over to its events in the same transaction. Another tenant's ids answer 404, exactly like ids that do not
exist; a bad filter, status or verdict answers 422 (`Invalid`, or the request's own validation).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dashboard.api.deps import Caller, DbSession
from jobs.stores.enrichment import attribution, enrichment_of
from models.public.incidents import IncidentDetailPublic, IncidentPublic, incident_addresses
from models.queries import incidents as incident_queries

router = APIRouter(prefix="/incidents")
TOP_EVENTS = 100


class IncidentStatusChange(BaseModel):
    status: str


class IncidentVerdict(BaseModel):
    verdict: str
    note: str = Field(default="", max_length=2000)


@router.get("")
async def list_incidents(
    caller: Caller, session: DbSession, status: str | None = None, kind: str | None = None,
    direction: str | None = None, severity: str | None = None, min_score: float | None = Query(None, ge=0, le=100),
    since: datetime | None = None, until: datetime | None = None, q: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
) -> list[IncidentPublic]:
    """The tenant's incidents in rank order (score, severity, last seen); `since`/`until` keep those active in
    [since, until), `q` searches entity, summary and service."""
    caller.require("viewer")
    rows, _ = await incident_queries.list_incidents(
        session, tenant_id=caller.tenant_id, status=status, kind=kind, direction=direction, severity=severity,
        min_score=min_score, since=since, until=until, q=q, limit=limit, offset=offset,
    )
    return [IncidentPublic.of(row) for row in rows]


@router.get("/{incident_id}")
async def get_incident(caller: Caller, session: DbSession, incident_id: int) -> IncidentDetailPublic:
    """One incident with its 100 riskiest events (the rest at `GET /drift-events?incident_id=`) and the owners
    (ASN, organisation, country) of its outside addresses, with the data's attribution."""
    caller.require("viewer")
    row = await incident_queries.get_incident(session, tenant_id=caller.tenant_id, incident_id=incident_id)
    events, linked = await incident_queries.incident_events(
        session, tenant_id=caller.tenant_id, incident_id=incident_id, limit=TOP_EVENTS)
    owners = await asyncio.to_thread(enrichment_of, tenant_id=caller.tenant_id,
                                     addresses=incident_addresses(row, events))
    return IncidentDetailPublic.with_events(row, events, linked, owners, attribution())


@router.patch("/{incident_id}")
async def change_status(
    caller: Caller, session: DbSession, incident_id: int, body: IncidentStatusChange
) -> IncidentPublic:
    """Set the incident's status (open, acknowledged, resolved, false_positive, suppressed); its events follow.
    Audited."""
    caller.require("analyst")
    row = await incident_queries.set_incident_status(
        session, tenant_id=caller.tenant_id, incident_id=incident_id, status=body.status, by=caller.actor)
    return IncidentPublic.of(row)


@router.post("/{incident_id}/feedback")
async def give_feedback(caller: Caller, session: DbSession, incident_id: int, body: IncidentVerdict) -> IncidentPublic:
    """Record a true/false-positive verdict with a note: it moves the rank of similar incidents still to come, and
    each event gets the verdict too (drift keeps learning); a false positive also closes the incident."""
    caller.require("analyst")
    row = await incident_queries.add_incident_feedback(
        session, tenant_id=caller.tenant_id, incident_id=incident_id, verdict=body.verdict, note=body.note,
        user_id=None, actor=caller.actor,
    )
    return IncidentPublic.of(row)
