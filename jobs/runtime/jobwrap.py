"""What every job run shares beside its job_run bookkeeping: the log context (tenant, job id), the queue its
follow-ups inherit, and its Prometheus counts. `tracked` (tracking.py) and `observed_cron` (cron entries) use it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from jobs.runtime.logs import job_id_var, job_run_id_var, tenant_id_var
from jobs.runtime.metrics import observe_job, observe_wait
from jobs.runtime.queues import INTERACTIVE, current_queue, label_of
from jobs.runtime.redact import safe_error

log = logging.getLogger("secureguard.jobs")


def enter_job(ctx: dict[str, Any], *, tenant_id: int | None, job_run_id: int | None) -> str:
    """Bind the running job's context (in its own task, so nothing leaks to the next job); its queue."""
    queue = str(ctx.get("sg_queue") or INTERACTIVE)
    current_queue.set(queue)
    tenant_id_var.set(tenant_id)
    job_id_var.set(str(ctx.get("job_id") or ""))
    job_run_id_var.set(job_run_id)
    # ARQ's score is when the job became due (enqueue time, or the end of its deferral), in ms.
    due_ms = ctx.get("score")
    if isinstance(due_ms, int) and int(ctx.get("job_try") or 1) == 1:
        observe_wait(label_of(queue), time.time() - due_ms / 1000)
    return queue


def job_ended(
    name: str, queue: str, status: str, seconds: float, result: dict[str, Any] | None = None, *, error: str = ""
) -> None:
    """Count an ended run for /metrics and log it (with the tenant and job ids of the context); a run that did not
    succeed is logged as a warning with its error, so an operator reading the log sees why it is retried."""
    observe_job(name, label_of(queue), status, seconds, result)
    extra = {"job_name": name, "queue": label_of(queue), "status": status, "seconds": round(seconds, 3)}
    if error:
        log.warning("job %s %s in %.3f s: %s", name, status, seconds, error, extra={**extra, "error": error})
    else:
        log.info("job %s %s in %.3f s", name, status, seconds, extra=extra)


CronFn = Callable[[dict[str, Any]], Awaitable[Any]]


def observed_cron(fn: CronFn, name: str) -> CronFn:
    """A cron entry with the job context bound and its end counted (succeeded or failed) by name and queue."""

    @functools.wraps(fn)
    async def run(ctx: dict[str, Any]) -> Any:
        queue = enter_job(ctx, tenant_id=None, job_run_id=None)
        started = time.monotonic()
        try:
            result = await fn(ctx)
        except BaseException as exc:
            error = safe_error(f"{type(exc).__name__}: {exc}")
            job_ended(name, queue, "failed", time.monotonic() - started, error=error)
            raise
        job_ended(name, queue, "succeeded", time.monotonic() - started, result if isinstance(result, dict) else None)
        return result

    return run
