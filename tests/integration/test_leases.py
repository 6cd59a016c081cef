"""A worker SIGKILLed while holding a window's or a tenant's lock frees it within the lease, not after the old
30-minute timeout; a live holder keeps it however long it works. Real Redis, a real second process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from jobs.runtime.constants import snapshot_lock_key
from jobs.runtime.leases import lease
from tests.conftest import ROOT, TEST_REDIS_URL

pytestmark = pytest.mark.integration
LEASE = 3.0
KEY = snapshot_lock_key(1, 1_700_000_000)
HOLDER = f"""
import asyncio, sys
from redis.asyncio import Redis
from jobs.runtime.leases import lease

async def main() -> None:
    async with lease(Redis.from_url({TEST_REDIS_URL!r}), {KEY!r}, seconds={LEASE}):
        print("held", flush=True)
        await asyncio.sleep(3600)

asyncio.run(main())
"""


async def _try(redis: Redis, wait: float) -> bool:
    """Whether `KEY` could be taken within `wait` seconds (released at once when it was)."""
    lock = redis.lock(KEY, timeout=LEASE, blocking_timeout=wait)
    if not await lock.acquire():
        return False
    await lock.release()
    return True


def _holder(tmp_path: Path) -> subprocess.Popen[str]:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    child = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


async def test_a_killed_holders_lock_is_free_within_the_lease(tmp_path: Path) -> None:
    redis = Redis.from_url(TEST_REDIS_URL)
    await redis.delete(KEY)
    child = _holder(tmp_path)
    try:
        # Alive, it keeps the lock well past one lease: the renewals work.
        await asyncio.sleep(LEASE * 2)
        assert not await _try(redis, 0.5)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        killed = time.monotonic()
        assert await _try(redis, LEASE + 2), "the dead holder's lock outlived its lease"
        assert time.monotonic() - killed <= LEASE + 2
    finally:
        child.kill()
        child.wait(10)
        assert child.stdout is not None
        child.stdout.close()
        await redis.aclose()


async def test_a_lease_waits_for_a_live_holder_and_is_released_on_exit() -> None:
    redis = Redis.from_url(TEST_REDIS_URL)
    await redis.delete(KEY)
    order: list[str] = []

    async def hold(name: str, seconds: float) -> None:
        async with lease(redis, KEY, seconds=LEASE):
            order.append(f"{name} in")
            await asyncio.sleep(seconds)
            order.append(f"{name} out")

    first = asyncio.create_task(hold("first", LEASE * 1.5))
    await asyncio.sleep(0.2)
    await asyncio.gather(first, hold("second", 0.1))
    assert order == ["first in", "first out", "second in", "second out"]
    assert not await redis.exists(KEY)
    await redis.aclose()


def test_every_job_lock_is_a_lease() -> None:
    """A plain `redis.lock(…, timeout=…)` in a job outlives a killed worker by its whole timeout."""
    plain = [str(path.relative_to(ROOT)) for path in (ROOT / "jobs").rglob("*.py")
             if ".lock(" in path.read_text() and path.name != "leases.py"]
    assert plain == []
