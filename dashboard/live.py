"""The backend's one Redis subscriber, fanning events out to the tenant's open tabs.

One reader task takes messages off the pub/sub connection and files them per tenant; one
delivery task per tenant pushes them in order. Tenants never wait for each other, and when
events arrive faster than a tenant's tabs take them, the backlog goes out as one update per tab.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import reflex as rx
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from jobs.runtime.constants import EVENTS_PATTERN, tenant_of_channel
from models.settings import get_settings
from state import live
from state.base import AppState

logger = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0
MAX_BATCH = 200


class TenantFanOut:
    """Per-tenant queues, each drained by its own task."""

    def __init__(self, app: rx.App) -> None:
        self.app = app
        self.queues: dict[int, asyncio.Queue[str]] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}

    def put(self, tenant_id: int, raw: str) -> None:
        if tenant_id not in self.queues:
            self.queues[tenant_id] = asyncio.Queue()
            self.tasks[tenant_id] = asyncio.create_task(self._drain(tenant_id), name=f"sg-live-{tenant_id}")
        self.queues[tenant_id].put_nowait(raw)

    async def _drain(self, tenant_id: int) -> None:
        queue = self.queues[tenant_id]
        while True:
            raws = [await queue.get()]
            while not queue.empty() and len(raws) < MAX_BATCH:
                raws.append(queue.get_nowait())
            await live.deliver(self.app, AppState, tenant_id, live.decode_events(raws, tenant_id))

    async def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)


async def _listen(fan_out: TenantFanOut) -> None:
    redis = Redis.from_url(get_settings().redis_url, decode_responses=True)
    pubsub = redis.pubsub()
    try:
        await pubsub.psubscribe(EVENTS_PATTERN)
        async for message in pubsub.listen():
            if message.get("type") != "pmessage":
                continue
            tenant_id = tenant_of_channel(message["channel"])
            if tenant_id is not None:
                fan_out.put(tenant_id, message["data"])
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves PubSub.aclose unannotated
        await redis.aclose()


def fan_out_task(app: rx.App) -> Callable[[], Awaitable[None]]:
    """A lifespan task that keeps the subscriber running, reconnecting when Redis drops."""

    async def run() -> None:
        fan_out = TenantFanOut(app)
        try:
            while True:
                try:
                    await _listen(fan_out)
                except (RedisConnectionError, OSError) as exc:
                    logger.warning("live events: Redis unavailable (%s); retrying", type(exc).__name__)
                    await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            await fan_out.close()

    return run
