"""Failed-login throttling in Redis, shared by every web worker."""

from __future__ import annotations

from redis.asyncio import Redis

from jobs.constants import login_failures_key


async def login_locked(redis: Redis, *, subjects: list[str], limit: int) -> int:
    """Seconds until another try is allowed for the first locked subject, 0 if none is locked."""
    for subject in subjects:
        key = login_failures_key(subject)
        failures = await redis.get(key)
        if failures is not None and int(failures) >= limit:
            return max(int(await redis.ttl(key)), 1)
    return 0


async def record_login_failure(redis: Redis, *, subjects: list[str], window_seconds: int) -> None:
    """Count a failure against each subject (email, client address) for the window."""
    async with redis.pipeline(transaction=True) as pipe:
        for subject in subjects:
            key = login_failures_key(subject)
            pipe.incr(key)
            pipe.expire(key, window_seconds, nx=True)
        await pipe.execute()


async def clear_login_failures(redis: Redis, *, subject: str) -> None:
    """A successful login forgives the account's earlier failures."""
    await redis.delete(login_failures_key(subject))
