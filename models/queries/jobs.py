"""Queries for job runs: the durable history of every job the workers run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models.errors import Invalid, NotFound
from models.ops import FINISHED_STATUSES, JOB_STATUSES, JobRun
from models.types import utcnow

# How jobs.runtime.tracking records a PermanentJobError: bad input or a missing row, which another attempt cannot fix.
PERMANENT_PREFIX = "PermanentJobError: "


def is_permanent_failure(run: JobRun) -> bool:
    """A failed run whose error another attempt would only repeat (retrying it cannot help)."""
    return run.status == "failed" and run.error.startswith(PERMANENT_PREFIX)


async def create_job_run(
    session: AsyncSession, *, tenant_id: int, name: str, arq_job_id: str,
    params: dict[str, Any], triggered_by: str, retry_of: int | None = None,
) -> JobRun:
    """Record a job as queued (`retry_of`: the run it repeats)."""
    run = JobRun(
        tenant_id=tenant_id, name=name, arq_job_id=arq_job_id, params=params,
        triggered_by=triggered_by, status="queued", retry_of=retry_of,
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


@dataclass(frozen=True)
class RunFilter:
    """What the runs table narrows to; every field optional. `trigger` matches part of triggered_by."""

    status: str | None = None
    name: str | None = None
    trigger: str | None = None
    since: datetime | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in JOB_STATUSES:
            raise Invalid(f"unknown status {self.status!r}: choose one of {', '.join(JOB_STATUSES)}")

    def apply(self, query: SelectOfScalar[Any], tenant_id: int) -> SelectOfScalar[Any]:
        """`query` limited to the tenant and these filters."""
        query = query.where(JobRun.tenant_id == tenant_id)
        if self.status:
            query = query.where(JobRun.status == self.status)
        if self.name:
            query = query.where(JobRun.name == self.name)
        if self.trigger:
            query = query.where(col(JobRun.triggered_by).ilike(f"%{self.trigger}%"))
        if self.since is not None:
            query = query.where(JobRun.enqueued_at >= self.since)
        return query


# The runs table's orders; every one ends on the id so that paging is stable.
RUN_SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (col(JobRun.id).desc(),),
    "oldest": (col(JobRun.id),),
    "name": (col(JobRun.name), col(JobRun.id).desc()),
    "status": (col(JobRun.status), col(JobRun.id).desc()),
    "attempts": (col(JobRun.attempts).desc(), col(JobRun.id).desc()),
}


async def list_job_runs(
    session: AsyncSession, *, tenant_id: int, status: str | None = None, name: str | None = None,
    limit: int = 50, offset: int = 0, where: RunFilter | None = None, sort: str = "newest",
) -> list[JobRun]:
    """The tenant's job runs in `sort` order (RUN_SORTS; newest first by default), optionally filtered
    (`where` or the status/name shortcuts)."""
    if sort not in RUN_SORTS:
        raise Invalid(f"unknown sort {sort!r}: choose one of {', '.join(RUN_SORTS)}")
    where = where or RunFilter(status=status, name=name)
    query = where.apply(select(JobRun), tenant_id)
    query = query.order_by(*RUN_SORTS[sort]).limit(min(max(limit, 1), 500)).offset(max(offset, 0))
    return list(await session.exec(query))


async def count_job_runs(session: AsyncSession, *, tenant_id: int, where: RunFilter) -> int:
    """How many of the tenant's runs match (for paging)."""
    query = where.apply(select(func.count()).select_from(JobRun), tenant_id)
    return int((await session.exec(query)).one())


async def find_job_run(session: AsyncSession, *, tenant_id: int, lookup: str) -> JobRun:
    """A run by its number (`42`, `#42`) or its ARQ job id (`build_snapshot:3:1713484800`)."""
    text = lookup.strip().lstrip("#")
    if text.isdigit():
        return await get_job_run(session, tenant_id=tenant_id, job_run_id=int(text))
    rows = await session.exec(
        select(JobRun).where(JobRun.tenant_id == tenant_id, JobRun.arq_job_id == text).order_by(col(JobRun.id).desc())
    )
    run = rows.first()
    if run is None:
        raise NotFound(f"no job run with id {lookup!r}")
    return run


async def list_runs_in_status(
    session: AsyncSession, *, tenant_id: int, statuses: tuple[str, ...], limit: int = 1000
) -> list[JobRun]:
    """The tenant's runs in any of `statuses`, oldest first (the sweeper's and bulk retry's input)."""
    query = select(JobRun).where(JobRun.tenant_id == tenant_id, col(JobRun.status).in_(statuses))
    return list(await session.exec(query.order_by(col(JobRun.id)).limit(limit)))


async def has_retry(session: AsyncSession, *, tenant_id: int, job_run_id: int) -> bool:
    """Whether some run already repeats this one."""
    query = select(func.count()).select_from(JobRun).where(JobRun.tenant_id == tenant_id, JobRun.retry_of == job_run_id)
    return int((await session.exec(query)).one()) > 0


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


async def mark_job_running(
    session: AsyncSession, *, tenant_id: int, job_run_id: int, attempt: int, worker_id: str = ""
) -> JobRun:
    """A worker picked the job up (attempt counts from 1); a run already closed (cancelled, lost) stays closed."""
    run = await get_job_run(session, tenant_id=tenant_id, job_run_id=job_run_id)
    if run.status in FINISHED_STATUSES:
        return run
    run.status = "running"
    run.worker_id = worker_id[:200]
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


async def ingest_results(session: AsyncSession, *, tenant_id: int, upload_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The result of the newest succeeded ingest_flows run of each of `upload_ids` (absent: none succeeded)."""
    if not upload_ids:
        return {}
    query = (
        select(JobRun)
        .where(JobRun.tenant_id == tenant_id, JobRun.name == "ingest_flows", JobRun.status == "succeeded")
        .order_by(col(JobRun.id).desc())
        .limit(max(len(upload_ids) * 4, 100))
    )
    wanted, found = set(upload_ids), {}
    for run in await session.exec(query):
        upload_id = (run.result or {}).get("upload_id")
        if upload_id in wanted and upload_id not in found:
            found[int(upload_id)] = dict(run.result)
    return found
