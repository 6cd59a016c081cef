"""What the workers are doing, read from Redis: queue depth, live workers, the cron schedule."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from arq.constants import default_queue_name
from arq.cron import CronJob
from redis.asyncio import Redis

from jobs.runtime.constants import WORKER_KEY_PATTERN, WORKER_KEY_TTL_SECONDS


def _text(value: bytes | str) -> str:
    # ARQ's pool returns bytes, our own client str.
    return value.decode() if isinstance(value, bytes) else value


async def queue_depth(redis: Redis) -> int:
    """Jobs in ARQ's queue: waiting, deferred (retries) and in progress."""
    return int(await redis.zcard(default_queue_name))


async def live_workers(redis: Redis, *, now: datetime) -> list[dict[str, Any]]:
    """Workers whose heartbeat key still lives, with when they last beat (derived from the key's TTL)."""
    workers = []
    async for key in redis.scan_iter(match=WORKER_KEY_PATTERN, count=500):
        remaining_ms = int(await redis.pttl(key))
        if remaining_ms < 0:
            continue
        ago = max(0.0, WORKER_KEY_TTL_SECONDS - remaining_ms / 1000)
        worker_id = _text(key).split(":", 2)[2]
        workers.append({"id": worker_id, "last_seen": (now - timedelta(seconds=ago)).isoformat(),
                        "seconds_ago": round(ago, 1)})
    return sorted(workers, key=lambda w: str(w["id"]))


async def live_worker_ids(redis: Redis) -> set[str]:
    """Ids (`host:pid`) of the workers with a live heartbeat."""
    return {_text(key).split(":", 2)[2] async for key in redis.scan_iter(match=WORKER_KEY_PATTERN, count=500)}


def cron_schedule(cron_jobs: list[CronJob], *, now: datetime) -> list[dict[str, str]]:
    """Each cron job with its next run after `now` (UTC)."""
    out = []
    for job in cron_jobs:
        probe = CronJob(**{**job.__dict__, "next_run": None})
        probe.calculate_next(now.replace(tzinfo=None))
        next_run = probe.next_run.replace(microsecond=0).isoformat() + "+00:00" if probe.next_run else ""
        out.append({"name": job.name, "next_run": next_run})
    return out
