"""`/api/v1/drift-events`: list, fetch, change status, give feedback.

Viewers read; analysts (and above) change status and give feedback. Another tenant's ids answer
404, exactly like ids that do not exist; a bad filter, status or verdict answers 422 (`Invalid`).
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dashboard.api.deps import Caller, DbSession
from models.public.drift import DriftEventPublic
from models.queries import drift as drift_queries

router = APIRouter(prefix="/drift-events")


class StatusChange(BaseModel):
    status: str


class FeedbackIn(BaseModel):
    verdict: str
    note: str = Field(default="", max_length=2000)


@router.get("")
async def list_events(
    caller: Caller, session: DbSession, snapshot_id: int | None = None, kind: str | None = None,
    status: str | None = None, severity: str | None = None, min_risk: int | None = None,
    incident_id: int | None = None, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
) -> list[DriftEventPublic]:
    """The tenant's drift events, highest risk first; `incident_id` keeps one incident's events."""
    caller.require("viewer")
    rows, _ = await drift_queries.list_events(
        session, tenant_id=caller.tenant_id, snapshot_id=snapshot_id, kind=kind, status=status,
        severity=severity, min_risk=min_risk, limit=limit, offset=offset, incident_id=incident_id,
    )
    return [DriftEventPublic.of(row) for row in rows]


@router.get("/{event_id}")
async def get_event(caller: Caller, session: DbSession, event_id: int) -> DriftEventPublic:
    """One event with its reasons and evidence."""
    caller.require("viewer")
    row = await drift_queries.get_event(session, tenant_id=caller.tenant_id, event_id=event_id)
    return DriftEventPublic.of(row)


@router.patch("/{event_id}")
async def change_status(caller: Caller, session: DbSession, event_id: int, body: StatusChange) -> DriftEventPublic:
    """Set the event's status (open, acknowledged, resolved, false_positive, suppressed); audited."""
    caller.require("analyst")
    [row] = await drift_queries.set_event_status(
        session, tenant_id=caller.tenant_id, event_ids=[event_id], status=body.status, actor=caller.actor
    )
    return DriftEventPublic.of(row)


@router.post("/{event_id}/feedback")
async def give_feedback(caller: Caller, session: DbSession, event_id: int, body: FeedbackIn) -> DriftEventPublic:
    """Record a true/false-positive verdict with a note; it moves the risk of similar later events."""
    caller.require("analyst")
    row = await drift_queries.add_feedback(
        session, tenant_id=caller.tenant_id, event_id=event_id, verdict=body.verdict, actor=caller.actor,
        user_id=None, note=body.note,
    )
    return DriftEventPublic.of(row)
