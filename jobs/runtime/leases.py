"""Locks that die with their holder: a short lease in Redis, renewed while the holder's event loop lives.

A plain `redis.lock(key, timeout=1800)` held by a worker that is SIGKILLed (or whose machine goes away) stays
for its whole timeout, so the re-queued run waits half an hour on a lock nobody holds. A lease is taken for
`seconds` and renewed every `seconds / 3` by a task beside the holder: a live holder keeps it however long its
work takes, a dead one loses it within `seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

log = logging.getLogger(__name__)

# Long enough that a busy event loop (a GC pause, a large commit) never misses three renewals in a row.
LEASE_SECONDS = 60.0


async def _renew(lock: Lock, key: str, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds / 3)
        try:
            await lock.reacquire()
        except LockError:
            # The lease ran out before a renewal (the loop was blocked for `seconds`): another holder may be in.
            # Leaving the block raises LockNotOwnedError, so the job fails and is retried, not silently doubled.
            log.warning("lease %s was lost before its renewal", key)
            return


@contextlib.asynccontextmanager
async def lease(redis: Redis, key: str, *, seconds: float = LEASE_SECONDS) -> AsyncIterator[None]:
    """Hold `key` exclusively for the block, waiting for it as long as another live holder has it."""
    lock = redis.lock(key, timeout=seconds)
    await lock.acquire()
    renewal = asyncio.create_task(_renew(lock, key, seconds), name=f"lease {key}")
    try:
        yield
    finally:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal
        await lock.release()
