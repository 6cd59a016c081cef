"""Live events: workers and the web app publish them on the tenant's Redis channel."""

from __future__ import annotations

import json
import time
from typing import Any

from redis.asyncio import Redis

from jobs.runtime.constants import events_channel


def encode_event(tenant_id: int, kind: str, data: dict[str, Any]) -> str:
    """The JSON text of one event; `ts` lets receivers measure delivery latency."""
    return json.dumps({"type": kind, "tenant_id": tenant_id, "ts": time.time(), "data": data}, default=str)


async def publish_event(redis: Redis, *, tenant_id: int, kind: str, data: dict[str, Any]) -> int:
    """Publish `kind` (e.g. "job.updated") to the tenant's channel; returns how many subscribers got it."""
    return int(await redis.publish(events_channel(tenant_id), encode_event(tenant_id, kind, data)))
