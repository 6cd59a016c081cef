"""The two queues live: a ping is served by an interactive-only worker while bulk work waits for a bulk worker;
/health says which queues have workers; the Jobs REST metrics show each queue's depth."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
from arq.connections import RedisSettings
from arq.worker import Worker

from jobs import worker as worker_settings
from jobs.runtime.connections import get_redis
from jobs.runtime.constants import worker_key
from jobs.runtime.queue import enqueue_job
from jobs.runtime.queues import INTERACTIVE
from models.db import session_scope
from models.queries import jobs as job_queries
from tests.builders import bearer, make_tenant
from tests.conftest import TEST_REDIS_URL


async def _status(tenant_id: int, run_id: int) -> str:
    async with session_scope() as session:
        return (await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=run_id)).status


async def test_an_interactive_worker_runs_pings_while_bulk_work_waits_for_its_own_worker(
    client: httpx.AsyncClient,
) -> None:
    acme = await make_tenant("acme", token_role="viewer")
    build = await enqueue_job("build_snapshot", tenant_id=acme.tenant_id, triggered_by="tester",
                              params={"window_start": "2024-04-19T00:00:00+00:00"}, key="1713484800")
    worker = Worker(functions=worker_settings.functions_for(worker_settings.JOBS), queue_name=INTERACTIVE,
                    on_startup=worker_settings.startup_interactive, on_shutdown=worker_settings.shutdown,
                    redis_settings=RedisSettings.from_dsn(TEST_REDIS_URL), poll_delay=0.01, keep_result=0,
                    handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    try:
        ping = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="tester")
        for _ in range(300):
            if await _status(acme.tenant_id, ping.id or 0) == "succeeded":
                break
            await asyncio.sleep(0.05)
        assert await _status(acme.tenant_id, ping.id or 0) == "succeeded"
        assert await _status(acme.tenant_id, build.id or 0) == "queued"
        health = (await client.get("/api/v1/health")).json()
        assert health["queues"] == {"interactive": 1, "bulk": 0} and health["status"] == "degraded"
        metrics = (await client.get("/api/v1/jobs/metrics", headers=bearer(acme.token))).json()
        depth = {q["queue"]: q for q in metrics["queues"]}
        assert depth["bulk"]["due"] == 1 and depth["bulk"]["depth"] >= 1 and metrics["queue_depth"] >= 1
        assert [w["queues"] for w in metrics["workers"]] == ["interactive"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await worker.close()


async def test_health_is_ok_only_when_every_queue_has_a_worker(client: httpx.AsyncClient, app_ctx: Any) -> None:
    redis = get_redis()
    await redis.set(worker_key("host-a:1"), "bulk", ex=15)
    assert (await client.get("/api/v1/health")).json()["status"] == "degraded"
    await redis.set(worker_key("host-b:2"), "interactive", ex=15)
    health = (await client.get("/api/v1/health")).json()
    assert health["status"] == "ok" and health["queues"] == {"interactive": 1, "bulk": 1} and health["workers"] == 2
