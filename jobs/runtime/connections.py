"""Redis and ARQ clients, one per event loop of the process."""

from __future__ import annotations

import asyncio
import dataclasses

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio import Redis

from models.settings import get_settings

# Keyed by the loop's id; each entry holds its loop, so the id cannot be reused while the entry lives, and an
# entry whose loop has closed is dropped before any lookup (a new loop never gets a dead loop's client).
_redis: dict[int, tuple[asyncio.AbstractEventLoop, Redis]] = {}
_arq: dict[int, tuple[asyncio.AbstractEventLoop, ArqRedis]] = {}
_arq_locks: dict[int, asyncio.Lock] = {}


def _running_loop() -> tuple[int, asyncio.AbstractEventLoop]:
    loop = asyncio.get_running_loop()
    for table in (_redis, _arq):
        for key, (owner, _) in list(table.items()):
            if owner.is_closed():
                del table[key]
                _arq_locks.pop(key, None)
    return id(loop), loop


# ARQ's default is 1 s: a worker starved of CPU (a loaded machine, measured at load 10 on 2 cores in the cluster
# test) timed out opening a connection, and a worker whose poll loop fails dies with its running jobs.
CONNECT_TIMEOUT_SECONDS = 10


def arq_settings() -> RedisSettings:
    """The worker's and enqueuers' ARQ connection settings, from `SG_REDIS_URL`."""
    return dataclasses.replace(RedisSettings.from_dsn(get_settings().redis_url), conn_timeout=CONNECT_TIMEOUT_SECONDS)


def get_redis() -> Redis:
    """A redis client bound to the running loop (clients cannot cross loops)."""
    key, loop = _running_loop()
    if key not in _redis:
        _redis[key] = (loop, Redis.from_url(get_settings().redis_url, decode_responses=True))
    return _redis[key][1]


async def get_arq() -> ArqRedis:
    """An ARQ pool bound to the running loop, for enqueueing and aborting jobs."""
    key, loop = _running_loop()
    # Two first callers at once would each open a pool and leak one.
    async with _arq_locks.setdefault(key, asyncio.Lock()):
        if key not in _arq:
            _arq[key] = (loop, await create_pool(arq_settings()))
    return _arq[key][1]


async def close_connections() -> None:
    """Close the clients of the running loop (shutdown, tests)."""
    key, _ = _running_loop()
    if (entry := _redis.pop(key, None)) is not None:
        await entry[1].aclose()
    if (pool := _arq.pop(key, None)) is not None:
        await pool[1].aclose()
    _arq_locks.pop(key, None)
