"""Failed-login throttling in Redis, shared by every web worker.

Each subject (an account, a client address) has its own budget of failures per window: an
account locks after a few, an address only after many, so one guesser behind a shared address
cannot lock out everybody else there.
"""

from __future__ import annotations

from redis.asyncio import Redis

from jobs.constants import login_failures_key

# An address may fail this many times more than one account before it is locked.
ADDRESS_FACTOR = 10


def login_budgets(*, email: str, client_ip: str, per_account: int) -> dict[str, int]:
    """The subjects a login attempt counts against, each with its failure budget."""
    return {f"email:{email}": per_account, f"ip:{client_ip}": per_account * ADDRESS_FACTOR}


async def login_locked(redis: Redis, *, budgets: dict[str, int]) -> int:
    """Seconds until another try is allowed for the first locked subject, 0 if none is locked."""
    for subject, limit in budgets.items():
        key = login_failures_key(subject)
        failures = await redis.get(key)
        if failures is not None and int(failures) >= limit:
            return max(int(await redis.ttl(key)), 1)
    return 0


async def record_login_failure(redis: Redis, *, budgets: dict[str, int], window_seconds: int) -> None:
    """Count a failure against each subject for the window."""
    async with redis.pipeline(transaction=True) as pipe:
        for subject in budgets:
            key = login_failures_key(subject)
            pipe.incr(key)
            pipe.expire(key, window_seconds, nx=True)
        await pipe.execute()


async def clear_login_failures(redis: Redis, *, email: str) -> None:
    """A successful login forgives the account's earlier failures."""
    await redis.delete(login_failures_key(f"email:{email}"))
