"""`/api/v1/snapshots`: build windows, list snapshots, fetch one and its graph."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dashboard.api.deps import Caller, DbSession
from dashboard.api.errors import ApiError
from jobs.runtime import triggers
from jobs.runtime.windows import BadRange
from models.queries import graph as graph_queries

router = APIRouter(prefix="/snapshots")


class WindowRange(BaseModel):
    window_start: str
    window_end: str


@router.post("/build", status_code=202)
async def build(body: WindowRange, caller: Caller) -> JSONResponse:
    """Queue `build_snapshot` for every window in the range: `202 {"job_ids": […]}`."""
    caller.require("analyst")
    try:
        runs = await triggers.queue_snapshot_builds(tenant_id=caller.tenant_id, window_start=body.window_start,
                                                    window_end=body.window_end, actor=caller.actor)
    except BadRange as exc:
        raise ApiError(422, "invalid_range", str(exc)) from exc
    return JSONResponse({"job_ids": [r.id for r in runs]}, status_code=202)


@router.post("/detect", status_code=202)
async def detect(body: WindowRange, caller: Caller) -> JSONResponse:
    """Queue `detect_drift` for every ready snapshot whose window starts in the range: `202 {"job_ids": […]}`."""
    caller.require("analyst")
    try:
        runs = await triggers.queue_drift_runs(tenant_id=caller.tenant_id, window_start=body.window_start,
                                               window_end=body.window_end, actor=caller.actor)
    except BadRange as exc:
        raise ApiError(422, "invalid_range", str(exc)) from exc
    return JSONResponse({"job_ids": [r.id for r in runs]}, status_code=202)


@router.get("")
async def list_snapshots(
    caller: Caller, session: DbSession, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0)
) -> list[dict[str, Any]]:
    """The tenant's snapshots, newest window first."""
    rows = await graph_queries.list_snapshots(session, tenant_id=caller.tenant_id, limit=limit, offset=offset)
    return [graph_queries.snapshot_public(r) for r in rows]


@router.get("/{snapshot_id}")
async def get_snapshot(caller: Caller, session: DbSession, snapshot_id: int) -> dict[str, Any]:
    """One snapshot."""
    row = await graph_queries.get_snapshot(session, tenant_id=caller.tenant_id, snapshot_id=snapshot_id)
    return graph_queries.snapshot_public(row)


@router.get("/{snapshot_id}/graph")
async def get_graph(caller: Caller, session: DbSession, snapshot_id: int) -> dict[str, Any]:
    """The snapshot's nodes and edges."""
    nodes, edges = await graph_queries.snapshot_graph(session, tenant_id=caller.tenant_id, snapshot_id=snapshot_id)
    return {
        "nodes": [{"id": n.key, "name": n.name, "kind": n.kind, "namespace": n.namespace, "labels": n.labels}
                  for n in nodes],
        "edges": [{"src": e.src, "dst": e.dst, "dst_port": e.dst_port, "protocol": e.protocol, "bytes": e.bytes,
                   "packets": e.packets, "flows": e.flows} for e in edges],
    }
