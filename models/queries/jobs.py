"""Queries for job runs: the durable history of every job the workers run."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import NotFound
from models.ops import FINISHED_STATUSES, JOB_STATUSES, JobRun
from models.types import utcnow


async def create_job_run(
    session: AsyncSession, *, tenant_id: int, name: str, arq_job_id: str,
    params: dict[str, Any], triggered_by: str,
) -> JobRun:
    """Record a job as queued."""
    run = JobRun(
        tenant_id=tenant_id, name=name, arq_job_id=arq_job_id, params=params,
        triggered_by=triggered_by, status="queued",
    )
    session.add(run)
    await session.flush()
    return run


async def get_job_run(session: AsyncSession, *, tenant_id: int, job_run_id: int) -> JobRun:
    """One of the tenant's job runs."""
    run = (
        await session.exec(select(JobRun).where(JobRun.tenant_id == tenant_id, JobRun.id == job_run_id))
    ).first()
    if run is None:
        raise NotFound(f"job run {job_run_id} not found")
    return run


async def find_active_job_run(session: AsyncSession, *, tenant_id: int, arq_job_id: str) -> JobRun | None:
    """The unfinished run of an ARQ job id, if any (deduplication)."""
    rows = await session.exec(
        select(JobRun)
        .where(JobRun.tenant_id == tenant_id, JobRun.arq_job_id == arq_job_id)
        .where(col(JobRun.status).not_in(FINISHED_STATUSES))
        .order_by(col(JobRun.id).desc())
    )
    return rows.first()


async def list_job_runs(
    session: AsyncSession, *, tenant_id: int, status: str | None = None, name: str | None = None,
    limit: int = 50, offset: int = 0,
) -> list[JobRun]:
    """The tenant's job runs, newest first, optionally filtered."""
    if status is not None and status not in JOB_STATUSES:
        raise ValueError(f"unknown status {status!r}: choose one of {', '.join(JOB_STATUSES)}")
    query = select(JobRun).where(JobRun.tenant_id == tenant_id)
    if status:
        query = query.where(JobRun.status == status)
    if name:
        query = query.where(JobRun.name == name)
    query = query.order_by(col(JobRun.id).desc()).limit(min(max(limit, 1), 500)).offset(max(offset, 0))
    return list(await session.exec(query))


async def count_job_runs_by_status(session: AsyncSession, *, tenant_id: int) -> dict[str, int]:
    """How many of the tenant's runs are in each status (every status present, zero if none)."""
    rows = await session.exec(
        select(JobRun.status, func.count()).where(JobRun.tenant_id == tenant_id).group_by(JobRun.status)
    )
    counts = dict.fromkeys(JOB_STATUSES, 0)
    counts.update({status: int(n) for status, n in rows})
    return counts


async def set_arq_job_id(session: AsyncSession, *, tenant_id: int, job_run_id: int, arq_job_id: str) -> JobRun:
    """Re-key a queued run (its first id was still held by ARQ)."""
    run = await get_job_run(session, tenant_id=tenant_id, job_run_id=job_run_id)
    run.arq_job_id = arq_job_id
    session.add(run)
    return run


async def mark_job_running(session: AsyncSession, *, tenant_id: int, job_run_id: int, attempt: int) -> JobRun:
    """A worker picked the job up (attempt counts from 1)."""
    run = await get_job_run(session, tenant_id=tenant_id, job_run_id=job_run_id)
    run.status = "running"
    run.attempts = attempt
    run.started_at = run.started_at or utcnow()
    session.add(run)
    return run


async def mark_job_progress(
    session: AsyncSession, *, tenant_id: int, job_run_id: int, fraction: float, message: str
) -> JobRun:
    """Long jobs report how far they are."""
    run = await get_job_run(session, tenant_id=tenant_id, job_run_id=job_run_id)
    run.progress = min(max(fraction, 0.0), 1.0)
    run.progress_message = message[:500]
    session.add(run)
    return run


async def mark_job_finished(
    session: AsyncSession, *, tenant_id: int, job_run_id: int, status: str, error: str = "",
    result: dict[str, Any] | None = None,
) -> JobRun:
    """Close a run as succeeded, failed, cancelled or lost; or mark it retrying with the attempt's error."""
    run = await get_job_run(session, tenant_id=tenant_id, job_run_id=job_run_id)
    run.status = status
    if error:
        run.error = error
        entry = {"attempt": run.attempts, "error": error, "at": utcnow().isoformat()}
        run.attempt_errors = [*run.attempt_errors, entry]
    if status == "succeeded":
        run.progress = 1.0
        run.error = ""
    if result is not None:
        run.result = result
    if status in FINISHED_STATUSES:
        run.finished_at = utcnow()
    session.add(run)
    return run
