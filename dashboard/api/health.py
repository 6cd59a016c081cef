"""`GET /api/v1/health`: can this deployment do its work right now?"""

from __future__ import annotations

from fastapi import APIRouter
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from jobs.runtime.connections import get_redis
from jobs.runtime.constants import WORKER_KEY_PATTERN
from models.db import session_scope
from models.public.base import PublicModel

router = APIRouter()


class HealthReport(PublicModel):
    """`ok` or `degraded`, and what each dependency said."""

    status: str
    database: str
    redis: str
    workers: int


async def _database() -> str:
    try:
        async with session_scope() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except (SQLAlchemyError, OSError) as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


async def _redis_and_workers() -> tuple[str, int]:
    try:
        redis = get_redis()
        # redis-py types ping() for its sync and async clients at once.
        await redis.ping()  # type: ignore[misc]
        workers = [key async for key in redis.scan_iter(match=WORKER_KEY_PATTERN, count=100)]
    except (RedisError, OSError) as exc:
        return f"error: {type(exc).__name__}", 0
    return "ok", len(workers)


@router.get("/health")
async def health() -> HealthReport:
    """`ok` when the database and Redis answer and a worker is alive, else `degraded`."""
    database = await _database()
    redis, workers = await _redis_and_workers()
    ok = database == "ok" and redis == "ok" and workers > 0
    return HealthReport(status="ok" if ok else "degraded", database=database, redis=redis, workers=workers)
