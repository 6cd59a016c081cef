"""Redis and ARQ clients, one per event loop of the process."""

from __future__ import annotations

import asyncio
import weakref

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio import Redis

from models.settings import get_settings

# Keyed by the loop itself (weakly), not by id(): a later loop can sit at a finished loop's address.
_redis: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = weakref.WeakKeyDictionary()
_arq: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ArqRedis] = weakref.WeakKeyDictionary()
_arq_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def get_redis() -> Redis:
    """A redis client bound to the running loop (clients cannot cross loops)."""
    key = asyncio.get_running_loop()
    if key not in _redis:
        _redis[key] = Redis.from_url(get_settings().redis_url, decode_responses=True)
    return _redis[key]


async def get_arq() -> ArqRedis:
    """An ARQ pool bound to the running loop, for enqueueing and aborting jobs."""
    key = asyncio.get_running_loop()
    # Two first callers at once would each open a pool and leak one.
    async with _arq_locks.setdefault(key, asyncio.Lock()):
        if key not in _arq:
            _arq[key] = await create_pool(RedisSettings.from_dsn(get_settings().redis_url))
    return _arq[key]


async def close_connections() -> None:
    """Close the clients of the running loop (shutdown, tests)."""
    key = asyncio.get_running_loop()
    if (client := _redis.pop(key, None)) is not None:
        await client.aclose()
    if (pool := _arq.pop(key, None)) is not None:
        await pool.aclose()
    _arq_locks.pop(key, None)
