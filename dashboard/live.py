"""The backend's one Redis subscriber, fanning events out to the tenant's open tabs."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from jobs.constants import EVENTS_PATTERN, tenant_of_channel
from models.settings import get_settings
from state import live
from state.base import AppState

logger = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0


async def _listen(app: rx.App) -> None:
    redis = Redis.from_url(get_settings().redis_url, decode_responses=True)
    pubsub = redis.pubsub()
    try:
        await pubsub.psubscribe(EVENTS_PATTERN)
        async for message in pubsub.listen():
            if message.get("type") != "pmessage":
                continue
            tenant_id = tenant_of_channel(message["channel"])
            if tenant_id is not None:
                await live.deliver(app, AppState, message["data"], tenant_id)
    finally:
        await pubsub.aclose()
        await redis.aclose()


def fan_out_task(app: rx.App):  # type: ignore[no-untyped-def]
    """A lifespan task that keeps the subscriber running, reconnecting when Redis drops."""

    async def run() -> None:
        while True:
            try:
                await _listen(app)
            except (RedisConnectionError, OSError) as exc:
                logger.warning("live events: Redis unavailable (%s); retrying", type(exc).__name__)
                await asyncio.sleep(RECONNECT_SECONDS)

    return run
