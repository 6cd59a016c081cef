"""`GET /api/v1/health`: can this deployment do its work right now?"""

from __future__ import annotations

from fastapi import APIRouter
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from jobs.runtime.connections import get_redis
from jobs.runtime.constants import WORKER_KEY_PATTERN
from jobs.runtime.queues import LABELS
from models.db import session_scope
from models.public.base import PublicModel

router = APIRouter()


class HealthReport(PublicModel):
    """`ok` or `degraded`, and what each dependency said; `queues`: live workers serving each queue."""

    status: str
    database: str
    redis: str
    workers: int
    queues: dict[str, int] = {}


async def _database() -> str:
    try:
        async with session_scope() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except (SQLAlchemyError, OSError) as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


async def _redis_and_workers() -> tuple[str, int, dict[str, int]]:
    serving = dict.fromkeys(LABELS.values(), 0)
    try:
        redis = get_redis()
        # redis-py types ping() for its sync and async clients at once.
        await redis.ping()  # type: ignore[misc]
        workers = [key async for key in redis.scan_iter(match=WORKER_KEY_PATTERN, count=100)]
        for key in workers:
            # A heartbeat's value names the queues its worker serves ("interactive,bulk").
            for queue in (await redis.get(key) or "").split(","):
                if queue in serving:
                    serving[queue] += 1
    except (RedisError, OSError) as exc:
        return f"error: {type(exc).__name__}", 0, serving
    return "ok", len(workers), serving


@router.get("/health")
async def health() -> HealthReport:
    """`ok` when the database and Redis answer and a live worker serves each queue, else `degraded`."""
    database = await _database()
    redis, workers, queues = await _redis_and_workers()
    ok = database == "ok" and redis == "ok" and workers > 0 and all(queues.values())
    return HealthReport(status="ok" if ok else "degraded", database=database, redis=redis, workers=workers,
                        queues=queues)
