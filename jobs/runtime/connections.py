"""Redis and ARQ clients, one per event loop of the process."""

from __future__ import annotations

import asyncio

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio import Redis

from models.settings import get_settings

_redis: dict[int, Redis] = {}
_arq: dict[int, ArqRedis] = {}
_arq_locks: dict[int, asyncio.Lock] = {}


def _loop_id() -> int:
    return id(asyncio.get_running_loop())


def get_redis() -> Redis:
    """A redis client bound to the running loop (clients cannot cross loops)."""
    key = _loop_id()
    if key not in _redis:
        _redis[key] = Redis.from_url(get_settings().redis_url, decode_responses=True)
    return _redis[key]


async def get_arq() -> ArqRedis:
    """An ARQ pool bound to the running loop, for enqueueing and aborting jobs."""
    key = _loop_id()
    # Two first callers at once would each open a pool and leak one.
    async with _arq_locks.setdefault(key, asyncio.Lock()):
        if key not in _arq:
            _arq[key] = await create_pool(RedisSettings.from_dsn(get_settings().redis_url))
    return _arq[key]


async def close_connections() -> None:
    """Close the clients of the running loop (shutdown, tests)."""
    key = _loop_id()
    if (client := _redis.pop(key, None)) is not None:
        await client.aclose()
    if (pool := _arq.pop(key, None)) is not None:
        await pool.aclose()
    _arq_locks.pop(key, None)
