"""`/api/v1/snapshots`: build windows, list snapshots, fetch one and its graph."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from dashboard.api.answers import JobsQueued
from dashboard.api.deps import Caller, DbSession
from jobs.runtime import triggers
from models.public.graph import GraphPublic, SnapshotPublic
from models.queries import graph as graph_queries

router = APIRouter(prefix="/snapshots")


class WindowRange(BaseModel):
    window_start: str
    window_end: str


@router.post("/build", status_code=202)
async def build(body: WindowRange, caller: Caller) -> JobsQueued:
    """Queue `build_snapshot` for every window in the range: `202 {"job_ids": […]}` (a bad range: 422)."""
    caller.require("analyst")
    runs = await triggers.queue_snapshot_builds(tenant_id=caller.tenant_id, window_start=body.window_start,
                                                window_end=body.window_end, actor=caller.actor)
    return JobsQueued(job_ids=[r.id for r in runs])


@router.post("/detect", status_code=202)
async def detect(body: WindowRange, caller: Caller) -> JobsQueued:
    """Queue `detect_drift` for every ready snapshot whose window starts in the range: `202 {"job_ids": […]}`."""
    caller.require("analyst")
    runs = await triggers.queue_drift_runs(tenant_id=caller.tenant_id, window_start=body.window_start,
                                           window_end=body.window_end, actor=caller.actor)
    return JobsQueued(job_ids=[r.id for r in runs])


@router.get("")
async def list_snapshots(
    caller: Caller, session: DbSession, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0)
) -> list[SnapshotPublic]:
    """The tenant's snapshots, newest window first."""
    rows = await graph_queries.list_snapshots(session, tenant_id=caller.tenant_id, limit=limit, offset=offset)
    return [SnapshotPublic.of(r) for r in rows]


@router.get("/{snapshot_id}")
async def get_snapshot(caller: Caller, session: DbSession, snapshot_id: int) -> SnapshotPublic:
    """One snapshot."""
    row = await graph_queries.get_snapshot(session, tenant_id=caller.tenant_id, snapshot_id=snapshot_id)
    return SnapshotPublic.of(row)


@router.get("/{snapshot_id}/graph")
async def get_graph(caller: Caller, session: DbSession, snapshot_id: int) -> GraphPublic:
    """The snapshot's nodes and edges."""
    nodes, edges = await graph_queries.snapshot_graph(session, tenant_id=caller.tenant_id, snapshot_id=snapshot_id)
    return GraphPublic.of(nodes, edges)
