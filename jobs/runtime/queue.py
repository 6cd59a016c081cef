"""Enqueue jobs with a durable job_run row and a deterministic ARQ job id."""

from __future__ import annotations

import uuid
from typing import Any

from jobs.runtime.connections import get_arq, get_redis
from jobs.runtime.events import publish_event
from jobs.runtime.queues import queue_for
from models.db import session_scope
from models.ops import JobRun
from models.public.ops import JobRunPublic
from models.queries import jobs as job_queries


def job_id_for(name: str, tenant_id: int, key: str | None) -> str:
    """`name:tenant:key`; the same key means the same work, so ARQ refuses a second copy."""
    return f"{name}:{tenant_id}:{key or uuid.uuid4().hex}"


async def enqueue_job(
    name: str, *, tenant_id: int, triggered_by: str, params: dict[str, Any] | None = None,
    key: str | None = None, defer_seconds: float | None = None, rerun_if_running: bool = False,
    retry_of: int | None = None, queue: str | None = None,
) -> JobRun:
    """Queue job `name` for a tenant and return its run; an identical queued or running job is reused.

    With `rerun_if_running`, a job that already started is not enough (it may have read its input
    before the caller's change), so a second run is queued under a distinct id. The ARQ queue is
    `queue`, or the one `jobs.runtime.queues.queue_for` picks for the job's name.
    """
    params = params or {}
    queue = queue or queue_for(name)
    arq_job_id = job_id_for(name, tenant_id, key)
    async with session_scope() as session:
        existing = await job_queries.find_active_job_run(session, tenant_id=tenant_id, arq_job_id=arq_job_id)
        if existing is not None and not (rerun_if_running and existing.status != "queued"):
            return existing
        if existing is not None:
            arq_job_id = f"{arq_job_id}:rerun:{uuid.uuid4().hex[:8]}"
        run = await job_queries.create_job_run(
            session, tenant_id=tenant_id, name=name, arq_job_id=arq_job_id, params=params,
            triggered_by=triggered_by, retry_of=retry_of,
        )
    # Committed before enqueueing: the worker may start within milliseconds and must find the row.
    arq = await get_arq()
    job = await arq.enqueue_job(
        name, _job_id=arq_job_id, _defer_by=defer_seconds, _queue_name=queue, tenant_id=tenant_id, job_run_id=run.id,
        **params,
    )
    if job is None:
        # ARQ still holds the id (a run finishing right now): queue this work under a fresh id.
        arq_job_id = f"{arq_job_id}:rerun:{uuid.uuid4().hex[:8]}"
        async with session_scope() as session:
            run = await job_queries.set_arq_job_id(
                session, tenant_id=tenant_id, job_run_id=run.id or 0, arq_job_id=arq_job_id
            )
        await arq.enqueue_job(
            name, _job_id=arq_job_id, _defer_by=defer_seconds, _queue_name=queue, tenant_id=tenant_id,
            job_run_id=run.id, **params,
        )
    await publish_event(get_redis(), tenant_id=tenant_id, kind="job.updated", data=JobRunPublic.of(run).model_dump())
    return run
