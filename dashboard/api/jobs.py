"""`/api/v1/jobs`: the tenant's job runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from dashboard.api.deps import Caller, DbSession
from dashboard.api.errors import ApiError
from models.ops import JOB_STATUSES, job_run_public
from models.queries import jobs as job_queries

router = APIRouter(prefix="/jobs")


@router.get("")
async def list_jobs(
    caller: Caller, session: DbSession, status: str | None = None, name: str | None = None,
    limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    """Job runs of the caller's tenant, newest first."""
    if status is not None and status not in JOB_STATUSES:
        raise ApiError(422, "invalid_request", f"status must be one of {', '.join(JOB_STATUSES)}")
    runs = await job_queries.list_job_runs(
        session, tenant_id=caller.tenant_id, status=status, name=name, limit=limit, offset=offset
    )
    return [job_run_public(run) for run in runs]


@router.get("/{job_run_id}")
async def get_job(caller: Caller, session: DbSession, job_run_id: int) -> dict[str, Any]:
    """One job run of the caller's tenant (404 for any other tenant's id)."""
    run = await job_queries.get_job_run(session, tenant_id=caller.tenant_id, job_run_id=job_run_id)
    return job_run_public(run)
