"""The job_run life cycle around every job function: queued → running → retrying | succeeded | failed
| cancelled (lost is set by the sweeper).

Job functions are wrapped by `tracked`, which records each transition in `job_run` and publishes
`job.updated` on the tenant's channel, so the history is durable and open pages update live.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from arq import Retry
from arq.constants import abort_jobs_ss
from redis import exceptions as redis_exceptions
from sqlalchemy import exc as sa_exc

from jobs.runtime.events import publish_event
from jobs.runtime.jobwrap import enter_job, job_ended
from jobs.runtime.redact import safe_error
from models.db import session_scope
from models.ops import JobRun
from models.public.ops import JobRunPublic
from models.queries import jobs as job_queries
from models.settings import get_settings

JobFn = Callable[..., Awaitable[dict[str, Any]]]


class PermanentJobError(Exception):
    """A failure that another attempt cannot fix (bad input, missing row): fail at once."""


async def _publish(ctx: dict[str, Any], run: JobRun) -> None:
    await publish_event(ctx["redis"], tenant_id=run.tenant_id, kind="job.updated",
                        data=JobRunPublic.of(run).model_dump())


async def _transition(ctx: dict[str, Any], tenant_id: int, job_run_id: int, **changes: Any) -> JobRun:
    async with session_scope() as session:
        if changes.pop("running", False):
            run = await job_queries.mark_job_running(
                session, tenant_id=tenant_id, job_run_id=job_run_id, attempt=ctx["job_try"],
                worker_id=str(ctx.get("sg_worker_id", "")),
            )
        else:
            run = await job_queries.mark_job_finished(
                session, tenant_id=tenant_id, job_run_id=job_run_id, **changes
            )
    await _publish(ctx, run)
    return run


async def report_progress(ctx: dict[str, Any], *, fraction: float, message: str) -> None:
    """Called by long jobs: stores progress on the run and publishes it."""
    tenant_id, job_run_id = ctx["sg_tenant_id"], ctx["sg_job_run_id"]
    async with session_scope() as session:
        run = await job_queries.mark_job_progress(
            session, tenant_id=tenant_id, job_run_id=job_run_id, fraction=fraction, message=message
        )
    await _publish(ctx, run)


def cancel_request_key(job_run_id: int) -> str:
    """Set by a user's cancel: ARQ drops the job from its abort set before the job sees CancelledError."""
    return f"sg:jobs:cancel-requested:{job_run_id}"


async def _was_aborted(ctx: dict[str, Any]) -> bool:
    if await ctx["redis"].exists(cancel_request_key(ctx["sg_job_run_id"])):
        return True
    return await ctx["redis"].zscore(abort_jobs_ss, ctx["job_id"]) is not None


# Failures of the infrastructure a job leans on, which another attempt can outlive.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError, TimeoutError, redis_exceptions.ConnectionError, redis_exceptions.TimeoutError,
    sa_exc.OperationalError, sa_exc.InterfaceError, asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError, asyncpg.exceptions.ConnectionDoesNotExistError,
)
BACKOFF_CAP_SECONDS = 300.0


def backoff_seconds(job_try: int, base: float) -> float:
    """Exponential backoff before attempt `job_try + 1`: base, 2·base, 4·base … capped at 5 minutes."""
    return float(min(base * 2 ** max(job_try - 1, 0), BACKOFF_CAP_SECONDS))


def tracked(*, timeout: float, max_tries: int = 3, backoff: float = 2.0) -> Callable[[JobFn], JobFn]:
    """Wrap a job function `fn(ctx, *, tenant_id, **params)` with job_run bookkeeping.

    A transient infrastructure error (TRANSIENT_ERRORS) becomes an ARQ retry after an exponential
    backoff starting at `backoff` seconds; `PermanentJobError` and any other error fail at once.
    """

    def decorate(fn: JobFn) -> JobFn:
        @functools.wraps(fn)
        async def run(ctx: dict[str, Any], *, tenant_id: int, job_run_id: int, **params: Any) -> dict[str, Any]:
            ctx["sg_tenant_id"], ctx["sg_job_run_id"] = tenant_id, job_run_id
            queue = enter_job(ctx, tenant_id=tenant_id, job_run_id=job_run_id)
            limit = get_settings().job_error_max_chars
            started = await _transition(ctx, tenant_id, job_run_id, running=True)
            if started.status != "running":
                # Cancelled while queued, or given up as lost: the work must not run any more.
                job_ended(fn.__name__, queue, "skipped", 0.0)
                return {"skipped": started.status}
            clock = time.monotonic()

            def ended(status: str, result: dict[str, Any] | None = None, *, error: str = "") -> None:
                job_ended(fn.__name__, queue, status, time.monotonic() - clock, result, error=error)

            try:
                try:
                    result = await fn(ctx, tenant_id=tenant_id, **params)
                except TRANSIENT_ERRORS as exc:
                    raise Retry(defer=backoff_seconds(ctx["job_try"], backoff)) from exc
            except Retry as exc:
                final = ctx["job_try"] >= max_tries
                status = "failed" if final else "retrying"
                cause = exc.__cause__
                reason = f"{type(cause).__name__}: {cause}" if cause is not None else repr(exc)
                message = f"transient failure, attempt {ctx['job_try']} of {max_tries}: {reason}"
                ended(status, error=safe_error(message, limit=limit))
                await _transition(ctx, tenant_id, job_run_id, status=status, error=safe_error(message, limit=limit))
                raise
            except asyncio.CancelledError:
                aborted = await _was_aborted(ctx)
                status, error = ("cancelled", "cancelled by request") if aborted else ("failed", "timed out")
                ended(status, error=error)
                await _transition(ctx, tenant_id, job_run_id, status=status, error=error)
                raise
            except Exception as exc:
                # Record the failure for the history, then let ARQ see it as failed too.
                message = f"{type(exc).__name__}: {exc}"
                ended("failed", error=safe_error(message, limit=limit))
                await _transition(ctx, tenant_id, job_run_id, status="failed", error=safe_error(message, limit=limit))
                raise
            ended("succeeded", result)
            await _transition(ctx, tenant_id, job_run_id, status="succeeded", result=result)
            return result

        run.sg_timeout = timeout  # type: ignore[attr-defined]
        run.sg_max_tries = max_tries  # type: ignore[attr-defined]
        return run

    return decorate
