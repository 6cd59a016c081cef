"""The backend's live-event subscriber (`dashboard.live`) through a Redis kill and restart: events published once
Redis is back reach the tenant's tabs within 5 s. The Reflex push at the end (`state.live.deliver`) is recorded
instead of sent to browsers; Redis, the publisher and the subscriber are the product's."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from dashboard import live as backend_live
from jobs.runtime.events import publish_event
from models.settings import get_settings
from state import live as state_live
from tests.integration.faults.services import RedisServer

pytestmark = pytest.mark.integration
RECONNECT_LIMIT_S = 5.0


@pytest.fixture
async def own_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    monkeypatch.setenv("SG_REDIS_URL", server.url)
    get_settings.cache_clear()
    try:
        yield server
    finally:
        server.kill()
        get_settings.cache_clear()


async def _publisher(url: str, stop: asyncio.Event, sent: list[tuple[float, int]]) -> None:
    """Publish a numbered event every 50 ms, as jobs do; while Redis is down the publish fails and is skipped."""
    number = 0
    while not stop.is_set():
        number += 1
        client = Redis.from_url(url, decode_responses=True)
        with contextlib.suppress(RedisConnectionError, OSError):
            await publish_event(client, tenant_id=7, kind="job.updated", data={"n": number})
            sent.append((time.monotonic(), number))
        await client.aclose()
        await asyncio.sleep(0.05)


async def test_live_push_is_back_within_5_s_of_a_redis_restart(
    own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered: list[tuple[float, int, int]] = []

    async def record(app: Any, base_cls: Any, tenant_id: int, events: list[dict[str, Any]]) -> int:
        delivered.extend((time.monotonic(), tenant_id, e["data"]["n"]) for e in events)
        return 1

    monkeypatch.setattr(state_live, "deliver", record)
    run_subscriber = backend_live.fan_out_task(app=None)  # type: ignore[arg-type]  # no Reflex app: delivery is recorded
    subscriber: asyncio.Task[None] = asyncio.create_task(run_subscriber())  # type: ignore[arg-type]
    stop, sent = asyncio.Event(), list[tuple[float, int]]()
    publisher = asyncio.create_task(_publisher(own_redis.url, stop, sent))
    try:
        for _ in range(200):
            if delivered:
                break
            await asyncio.sleep(0.025)
        assert delivered, "no event reached the subscriber before the restart"
        own_redis.kill()
        await asyncio.sleep(2.0)  # down for 2 s
        own_redis.start()
        back = time.monotonic()
        for _ in range(int(RECONNECT_LIMIT_S * 2 / 0.05)):
            if any(at > back for at, _, _ in delivered):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await publisher
        subscriber.cancel()
        await asyncio.gather(subscriber, return_exceptions=True)
    after = [(at, n) for at, tenant, n in delivered if at > back]
    assert after, "no event reached the subscriber after Redis came back"
    first_sent = min(at for at, n in sent if at > back)
    reconnect = after[0][0] - back
    print(f"live push: first event delivered {reconnect:.2f} s after Redis was back "
          f"(first publish accepted {first_sent - back:.2f} s after)")
    assert reconnect < RECONNECT_LIMIT_S
    assert all(tenant == 7 for _, tenant, _ in delivered)
    numbers = [n for _, n in after]
    assert numbers == sorted(numbers)  # in order once back
