"""Plain helpers of the drift integration tests: push files, wait for the worker, read events."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from jobs.runtime.connections import get_redis
from jobs.runtime.constants import events_channel
from models.db import session_scope
from models.drift import DriftEvent
from models.queries import drift as drift_queries
from models.queries import drift_store
from models.queries import graph as graph_queries
from tests.builders import settled as settled  # re-exported for the drift tests
from tests.conftest import SHARED_DATA

RITA = SHARED_DATA / "zeek" / "rita-missing-host"
# The publisher's beaconing HTTP client and the sensor it calls (RITA README).
BEACON = ("73.54.23.243", "64.225.56.201")


def rita_files() -> list[Path]:
    """The 72 hourly conn.log files, oldest first."""
    files = sorted(RITA.glob("*/conn.*.log.gz"))
    assert len(files) == 72, f"expected the 72 hourly RITA files in {RITA}"
    return files


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def push(client: httpx.AsyncClient, token: str, path: Path) -> dict[str, Any]:
    """Upload one flow file through the API."""
    response = await client.post(f"/api/v1/flows?format=zeek&filename={path.name}", content=path.read_bytes(),
                                 headers=bearer(token))
    assert response.status_code == 202, response.text
    return dict(response.json())




async def all_events(tenant_id: int, **filters: Any) -> list[DriftEvent]:
    """Every event of the tenant matching the filters, highest risk first."""
    rows: list[DriftEvent] = []
    async with session_scope() as session:
        while True:
            page, total = await drift_queries.list_events(session, tenant_id=tenant_id, limit=1000,
                                                          offset=len(rows), **filters)
            rows += page
            if len(rows) >= total or not page:
                return rows


async def snapshot_at(tenant_id: int, hour: datetime) -> int:
    """The id of the tenant's snapshot of the window starting at `hour`."""
    async with session_scope() as session:
        rows = await graph_queries.list_snapshots(session, tenant_id=tenant_id, limit=1000)
    [sid] = [row.id for row in rows if row.window_start == hour.astimezone(UTC)]
    assert sid is not None
    return sid


def pattern(event: DriftEvent) -> tuple[str, str, str, int | None, str]:
    return (event.kind, event.src, event.dst, event.dst_port, event.protocol)


def fake_event(
    kind: str, src: str, dst: str, dst_port: int | None = 443, *, risk: float = 50.0, severity: str = "medium",
    status: str = "open", protocol: str = "tcp", explanation: str = "",
) -> dict[str, Any]:
    """An event as the engine's `DriftEventRecord.to_dict()` gives it."""
    port = "*" if dst_port is None else str(dst_port)
    return {
        "kind": kind, "src": src, "dst": dst, "dst_port": dst_port, "protocol": protocol, "risk": risk,
        "severity": severity, "status": status, "evidence": {"bytes": 1000},
        "reasons": [{"feature": "kind", "value": 1.0, "weight": 20.0, "contribution": 20.0, "evidence": kind}],
        "explanation": explanation or f"{kind} {src} → {dst}:{port}",
        "signature": "|".join((kind, src, dst, port, protocol)),
    }


async def seed_events(
    tenant_id: int, window_start: datetime, events: list[dict[str, Any]]
) -> tuple[int, list[dict[str, Any]]]:
    """An empty snapshot of the window with these events persisted as detection would; returns its id and
    the inserted events' column values."""
    async with session_scope() as session:
        snapshot = await graph_queries.replace_snapshot(
            session, tenant_id=tenant_id, window_start=window_start, window_end=window_start + timedelta(hours=1),
            source="test", nodes=[], edges=[],
        )
        changes = await drift_store.replace_snapshot_events(
            session, tenant_id=tenant_id, snapshot_id=snapshot.id or 0, window_start=window_start, events=events
        )
    return snapshot.id or 0, changes.inserted


@contextlib.asynccontextmanager
async def subscribed(tenant_id: int) -> AsyncIterator[Any]:
    """A pub/sub connection on the tenant's events channel, closed however the test ends."""
    pubsub = get_redis().pubsub()
    await pubsub.subscribe(events_channel(tenant_id))
    try:
        yield pubsub
    finally:
        await pubsub.aclose()


async def drain(pubsub: Any, quiet: float = 0.5) -> list[dict[str, Any]]:
    """Every published event until the channel stays quiet (subscribe confirmations skipped)."""
    seen, loop = [], asyncio.get_running_loop()
    deadline = loop.time() + quiet
    while loop.time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
        if message is not None:
            seen.append(json.loads(message["data"]))
            deadline = loop.time() + quiet
    return seen
