"""What the workers are doing, read from Redis: queue depth, live workers, the cron schedule."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from arq.cron import CronJob
from redis.asyncio import Redis

from jobs.runtime.constants import WORKER_KEY_PATTERN, WORKER_KEY_TTL_SECONDS
from jobs.runtime.queues import QUEUES, label_of


def _text(value: bytes | str) -> str:
    # ARQ's pool returns bytes, our own client str.
    return value.decode() if isinstance(value, bytes) else value


async def queue_depths(redis: Redis) -> list[dict[str, Any]]:
    """Per queue: `depth` = every job in it (waiting, running, deferred: ARQ keeps a job in its queue until it
    ends), `due` = those whose time has come (waiting for a worker or running), `deferred` = the rest
    (retries after a backoff, jobs queued for later)."""
    now_ms = int(time.time() * 1000)
    out = []
    for queue in QUEUES:
        depth = int(await redis.zcard(queue))
        due = int(await redis.zcount(queue, "-inf", now_ms))
        out.append({"queue": label_of(queue), "name": queue, "depth": depth, "due": due, "deferred": depth - due})
    return out


async def queue_depth(redis: Redis) -> int:
    """Jobs in both queues: waiting, deferred (retries) and in progress."""
    return sum(int(q["depth"]) for q in await queue_depths(redis))


async def live_workers(redis: Redis, *, now: datetime) -> list[dict[str, Any]]:
    """Workers whose heartbeat key still lives, with when they last beat (derived from the key's TTL)."""
    workers = []
    async for key in redis.scan_iter(match=WORKER_KEY_PATTERN, count=500):
        remaining_ms = int(await redis.pttl(key))
        value = await redis.get(key)
        if remaining_ms < 0 or value is None:
            continue
        ago = max(0.0, WORKER_KEY_TTL_SECONDS - remaining_ms / 1000)
        worker_id = _text(key).split(":", 2)[2]
        # The heartbeat's value names the queues served ("1" from a worker older than the two queues).
        served = _text(value)
        workers.append({"id": worker_id, "last_seen": (now - timedelta(seconds=ago)).isoformat(),
                        "seconds_ago": round(ago, 1), "queues": "" if served == "1" else served})
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
