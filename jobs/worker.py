"""ARQ worker settings: `arq jobs.worker.WorkerSettings`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import Any, ClassVar

from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.worker import Function, func

from jobs.runtime.constants import WORKER_HEARTBEAT_SECONDS, WORKER_KEY_TTL_SECONDS, worker_key
from jobs.tasks.baseline import refresh_baselines, schedule_baseline_refresh
from jobs.tasks.detect import detect_incidents
from jobs.tasks.drift import detect_drift
from jobs.tasks.gitops import schedule_pull_tracking, sync_gitops, track_pull_requests
from jobs.tasks.ingest import ingest_flows
from jobs.tasks.monitor import monitor_window, schedule_monitor
from jobs.tasks.notify import drain_notifications
from jobs.tasks.ping import ping
from jobs.tasks.policy import generate_policies
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


def functions_for(jobs: list[Any]) -> list[Function]:
    """ARQ function entries for `tracked` jobs, with the timeout and tries each declares."""
    return [
        func(job, name=job.__name__, timeout=job.sg_timeout, max_tries=job.sg_max_tries)
        for job in jobs
    ]


async def _heartbeat(ctx: dict[str, Any]) -> None:
    key = worker_key(ctx["sg_worker_id"])
    while True:
        await ctx["redis"].set(key, "1", ex=WORKER_KEY_TTL_SECONDS)
        await asyncio.sleep(WORKER_HEARTBEAT_SECONDS)


async def startup(ctx: dict[str, Any]) -> None:
    """Open the database pool and start the heartbeat that /health counts."""
    get_engine()
    ctx["sg_worker_id"] = f"{socket.gethostname()}:{os.getpid()}"
    ctx["sg_heartbeat"] = asyncio.create_task(_heartbeat(ctx))


async def shutdown(ctx: dict[str, Any]) -> None:
    """Stop the heartbeat, drop the worker's key, close the pools."""
    task: asyncio.Task[None] = ctx["sg_heartbeat"]
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await ctx["redis"].delete(worker_key(ctx["sg_worker_id"]))
    await dispose_engines()


class WorkerSettings:
    functions: ClassVar[list[Function]] = functions_for(JOBS)
    cron_jobs: ClassVar[list[CronJob]] = CRON_JOBS
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(get_settings().redis_url)
    # ARQ polls the queue; 20 ms keeps enqueue→start far below 100 ms at negligible CPU.
    poll_delay = get_settings().worker_poll_delay
    # job_run is the durable history; ARQ results would also block re-running a job id.
    keep_result = 0
    allow_abort_jobs = True
    max_jobs = 10
    handle_signals = True
