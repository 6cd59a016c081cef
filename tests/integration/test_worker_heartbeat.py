"""A worker's heartbeat must outlive a busy event loop: the sweeper gives up every running run of a worker whose
key lapsed, so a lapse on a live worker re-queues work that is still running (seen in a 30-minute 3-worker run:
a 16 s stall, 7 runs given up, the same upload ingested twice)."""

from __future__ import annotations

import asyncio
import time

import pytest

from jobs import worker
from jobs.runtime.connections import get_redis
from jobs.runtime.constants import worker_key

pytestmark = pytest.mark.integration


async def test_the_heartbeat_outlives_an_event_loop_held_longer_than_its_ttl(
    app_ctx: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "WORKER_HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(worker, "WORKER_KEY_TTL_SECONDS", 1)
    ctx: dict[str, object] = {"redis": get_redis()}
    await worker.startup_bulk(ctx)
    key = worker_key(str(ctx["sg_worker_id"]))
    try:
        await asyncio.sleep(0.3)  # the loop free for a moment: any heartbeat beats
        assert await get_redis().get(key) == "bulk"
        time.sleep(2.5)  # noqa: ASYNC251 - the point: a job holding the event loop (CPU work, a synchronous call)
        assert await get_redis().exists(key), "the key lapsed while the worker lived"
        ttl_ms = await get_redis().pttl(key)
        assert 0 < ttl_ms <= 1000
    finally:
        await worker.shutdown(ctx)
    # a clean shutdown drops the key at once (the worker is gone, not dead)
    assert not await get_redis().exists(key)
