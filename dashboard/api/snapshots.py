"""`/api/v1/snapshots`: build windows, list snapshots, fetch one and its graph."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dashboard.api.deps import Caller, DbSession
from dashboard.api.errors import ApiError
from jobs.queue import enqueue_job
from jobs.windows import BadRange, parse_moment, windows_between
from models.queries import graph as graph_queries
from models.queries import tenancy
from models.queries.audit import record_audit
from models.types import utcnow

router = APIRouter(prefix="/snapshots")


class BuildRequest(BaseModel):
    window_start: str
    window_end: str


@router.post("/build", status_code=202)
async def build(body: BuildRequest, caller: Caller, session: DbSession) -> JSONResponse:
    """Queue `build_snapshot` for every window in the range: `202 {"job_ids": […]}`."""
    caller.require("analyst")
    tenant = await tenancy.get_tenant(session, tenant_id=caller.tenant_id)
    try:
        start, end = parse_moment(body.window_start, "window_start"), parse_moment(body.window_end, "window_end")
        windows = windows_between(start, end, window_seconds=tenant.window_seconds, now=utcnow())
    except BadRange as exc:
        raise ApiError(422, "invalid_range", str(exc)) from exc
    runs = [
        await enqueue_job("build_snapshot", tenant_id=caller.tenant_id, triggered_by=caller.actor,
                          params={"window_start": w.isoformat()}, key=str(int(w.timestamp())), rerun_if_running=True)
        for w in windows
    ]
    await record_audit(session, tenant_id=caller.tenant_id, actor=caller.actor, action="snapshot.build",
                       after={"window_start": start.isoformat(), "window_end": end.isoformat(), "windows": len(runs)})
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
