"""ARQ worker settings, one class per way of serving the two queues (jobs/runtime/queues.py):

- `arq jobs.worker.InteractiveWorker`: the `sg:interactive` queue only (and its cron entries);
- `arq jobs.worker.BulkWorker`: the `sg:bulk` queue only (and its cron entries);
- `arq jobs.worker.WorkerSettings`: both, in one process: ARQ's Worker reads one queue, so its startup starts a
  second Worker for `sg:bulk` on the same event loop (a small deployment, the tests). Bulk work that holds the
  event loop delays interactive jobs of the same process: `./run demo` and the deploy files run one
  InteractiveWorker and one BulkWorker process instead.

Every worker registers every job function (a job's queue decides who runs it, and a follow-up of bulk work
stays bulk); cron entries live on the worker of their queue, so each runs once per schedule slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from typing import Any

from arq.cron import CronJob, cron
from arq.worker import Function, Worker, func

from jobs.runtime.connections import arq_settings
from jobs.runtime.constants import WORKER_HEARTBEAT_SECONDS, WORKER_KEY_TTL_SECONDS, worker_key
from jobs.runtime.heartbeat import Heartbeat
from jobs.runtime.jobwrap import observed_cron
from jobs.runtime.logs import configure_logging
from jobs.runtime.loopwatch import LoopWatch
from jobs.runtime.queues import BULK, CRON_QUEUE_OF, INTERACTIVE, QUEUES, label_of
from jobs.tasks.baseline import refresh_baselines, schedule_baseline_refresh
from jobs.tasks.detect import detect_incidents
from jobs.tasks.drift import detect_drift
from jobs.tasks.gitops import schedule_pull_tracking, sync_gitops, track_pull_requests
from jobs.tasks.ingest import ingest_flows
from jobs.tasks.monitor import monitor_window, schedule_monitor
from jobs.tasks.notify import drain_notifications
from jobs.tasks.ping import ping
from jobs.tasks.policy import generate_policies
from jobs.tasks.report_digest import send_report_digests
from jobs.tasks.schedules import cleanup_retention, schedule_retention, schedule_window_builds
from jobs.tasks.snapshot import build_snapshot
from jobs.tasks.sweeper import sweep_lost_runs
from models.db import dispose_engines, get_engine
from models.settings import get_settings

JOBS = [ping, ingest_flows, build_snapshot, detect_incidents, detect_drift, refresh_baselines, cleanup_retention]
# Fan-out schedules: each queues tracked per-tenant jobs, so every run still has a job_run.
CRON_JOBS: list[CronJob] = [
    cron(schedule_baseline_refresh, name="schedule_baseline_refresh", minute={0, 30}, run_at_startup=False,
         unique=True, timeout=60),
    # Runs whose worker died: ARQ alone would wait for the longest timeout (30 min) to re-run them.
    cron(sweep_lost_runs, name="sweep_lost_runs", second=30, run_at_startup=False, unique=True, timeout=50),
    cron(schedule_window_builds, name="schedule_window_builds", minute=set(range(0, 60, 5)), second=5,
         run_at_startup=False, unique=True, timeout=120),
    cron(schedule_retention, name="schedule_retention", hour=3, minute=0, run_at_startup=False, unique=True,
         timeout=120),
]
# GitOps: ship approved policies by pull request, and follow the open ones every 5 minutes.
JOBS += [sync_gitops, track_pull_requests]
# Policies: generate, prove and store drafts for review.
JOBS += [generate_policies]
# Monitor mode: each window against the approved policies of monitored namespaces (issue 19 Part B).
JOBS += [monitor_window]
CRON_JOBS.append(cron(schedule_monitor, name="schedule_monitor", second={0, 15, 30, 45}, run_at_startup=False,
                      unique=True, timeout=30))
CRON_JOBS.append(cron(schedule_pull_tracking, name="schedule_pull_tracking", minute=set(range(0, 60, 5)),
                      run_at_startup=False, unique=True, timeout=60))
# Notifications (issue 18): drain the outbox every 2 s (p95 incident → receiver within 5 s).
CRON_JOBS.append(cron(drain_notifications, name="drain_notifications", second=set(range(0, 60, 2)),
                      run_at_startup=False, unique=True, timeout=300))
# Reports (issue 18): queue each tenant's due daily or weekly report digest into the outbox (once per period).
CRON_JOBS.append(cron(send_report_digests, name="send_report_digests", minute=set(range(0, 60, 10)), second=20,
                      run_at_startup=False, unique=True, timeout=300))


# Crons run through observed_cron: their queue is known to what they queue, and /metrics counts them as jobs.
CRON_JOBS = [CronJob(**{**job.__dict__, "coroutine": observed_cron(job.coroutine, job.name)}) for job in CRON_JOBS]


def crons_on(queue: str) -> list[CronJob]:
    """The cron entries that run on `queue`'s workers."""
    return [job for job in CRON_JOBS if CRON_QUEUE_OF[job.name] == queue]


def functions_for(jobs: list[Any]) -> list[Function]:
    """ARQ function entries for `tracked` jobs, with the timeout and tries each declares."""
    return [
        func(job, name=job.__name__, timeout=job.sg_timeout, max_tries=job.sg_max_tries)
        for job in jobs
    ]


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def _start(ctx: dict[str, Any], queues: tuple[str, ...]) -> None:
    configure_logging()
    get_engine()
    ctx["sg_worker_id"], ctx["sg_queue"], ctx["sg_queues"] = _worker_id(), queues[0], queues
    # The value names the queues this process serves (the Jobs page and /health show it).
    heartbeat = Heartbeat(get_settings().redis_url, worker_key(ctx["sg_worker_id"]),
                          ",".join(label_of(q) for q in queues), every=WORKER_HEARTBEAT_SECONDS,
                          ttl=WORKER_KEY_TTL_SECONDS)
    await asyncio.to_thread(heartbeat.start)
    ctx["sg_heartbeat"] = heartbeat
    ctx["sg_loop_watch"] = watch = LoopWatch()
    watch.start()


async def startup_interactive(ctx: dict[str, Any]) -> None:
    """Open the database pool and start the heartbeat that /health counts."""
    await _start(ctx, (INTERACTIVE,))


async def startup_bulk(ctx: dict[str, Any]) -> None:
    """As startup_interactive, for a bulk-only worker."""
    await _start(ctx, (BULK,))


async def startup_pair(ctx: dict[str, Any]) -> None:
    """The interactive Worker's startup where the caller runs the bulk one beside it (companion_worker)."""
    await _start(ctx, QUEUES)


# The name older code and tests use: the worker of the interactive queue.
startup = startup_interactive


async def shutdown(ctx: dict[str, Any]) -> None:
    """Stop the heartbeat, drop the worker's key, close the pools."""
    heartbeat: Heartbeat = ctx["sg_heartbeat"]
    await ctx["sg_loop_watch"].stop()
    await asyncio.to_thread(heartbeat.stop)
    await dispose_engines()


async def companion_startup(ctx: dict[str, Any]) -> None:
    """A second queue's Worker in a process that already runs one: same worker id, no heartbeat of its own."""
    ctx["sg_worker_id"], ctx["sg_queue"] = _worker_id(), BULK


def companion_worker(functions: list[Function], *, cron_jobs: list[CronJob] | None = None,
                     **options: Any) -> Worker:
    """The `sg:bulk` Worker that runs beside an interactive one in the same process (never handles signals)."""
    return Worker(functions=functions, queue_name=BULK, cron_jobs=crons_on(BULK) if cron_jobs is None else cron_jobs,
                  on_startup=companion_startup, handle_signals=False, **options)


async def _stop_companion(worker: Worker, task: asyncio.Task[None]) -> None:
    worker.handle_sig(signal.SIGTERM)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await worker.close()


async def startup_both(ctx: dict[str, Any]) -> None:
    """WorkerSettings: the interactive Worker's startup also starts the bulk Worker on the same loop."""
    await _start(ctx, QUEUES)
    companion = companion_worker(functions_for(JOBS), **_OPTIONS)
    ctx["sg_companion"] = (companion, asyncio.create_task(companion.async_run()))


async def shutdown_both(ctx: dict[str, Any]) -> None:
    """Stop the bulk Worker (its running jobs are cancelled, as the interactive Worker's are), then as shutdown."""
    await _stop_companion(*ctx["sg_companion"])
    await shutdown(ctx)


_OPTIONS: dict[str, Any] = {
    "redis_settings": arq_settings(),
    # ARQ polls the queue; 20 ms keeps enqueue→start far below 100 ms at negligible CPU.
    "poll_delay": get_settings().worker_poll_delay,
    # job_run is the durable history; ARQ results would also block re-running a job id.
    "keep_result": 0,
    "allow_abort_jobs": True,
    "max_jobs": 10,
}


def worker_settings(name: str, queues: tuple[str, ...], *, on_startup: Any, on_shutdown: Any,
                    doc: str) -> type[Any]:
    """An ARQ settings class serving `queues` (the first is the one its Worker reads; its cron entries run here).

    A class built whole rather than a subclass: ARQ reads only the settings class's own `__dict__`.
    """
    return type(name, (), {
        "__doc__": doc,
        "__module__": __name__,
        "queue_name": queues[0],
        # Not an ARQ setting: the queues a process with these settings serves (deploy checks read it).
        "sg_queues": queues,
        "functions": functions_for(JOBS),
        "cron_jobs": crons_on(queues[0]),
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "handle_signals": True,
        **_OPTIONS,
    })


InteractiveWorker = worker_settings(
    "InteractiveWorker", (INTERACTIVE,), on_startup=startup_interactive, on_shutdown=shutdown,
    doc="`arq jobs.worker.InteractiveWorker`: the interactive queue and its cron entries.")
BulkWorker = worker_settings(
    "BulkWorker", (BULK,), on_startup=startup_bulk, on_shutdown=shutdown,
    doc="`arq jobs.worker.BulkWorker`: the bulk queue and its cron entries.")
WorkerSettings = worker_settings(
    "WorkerSettings", QUEUES, on_startup=startup_both, on_shutdown=shutdown_both,
    doc="`arq jobs.worker.WorkerSettings`: both queues in one process (see the module doc).")
