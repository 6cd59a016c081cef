"""Redis killed and restarted (empty: no persistence) while a worker ingests the Zeek sample: no upload is lost
(what arrives while Redis is down is accepted and parsed once it is back), and rate limits count in the process
while it is down, as they always have (`jobs.auth.ratelimit`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from jobs.auth import ratelimit
from jobs.runtime.connections import close_connections, get_redis
from models.db import dispose_engines, session_scope
from models.queries import graph as graph_queries
from models.settings import get_settings
from tests.builders import make_tenant
from tests.integration.drift_support import push, rita_files
from tests.integration.faults import services
from tests.integration.faults.services import RedisServer, restarts, service_env, start_worker, stop

pytestmark = pytest.mark.integration


@pytest.fixture
async def own_redis(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    services.use_services(monkeypatch, tmp_path / "data", database_url=pg_url, redis_url=server.url)
    try:
        yield server
    finally:
        await close_connections()
        await dispose_engines()
        server.kill()
        get_settings.cache_clear()


async def test_a_redis_restart_during_ingestion_loses_no_upload(own_redis: RedisServer, tmp_path: Path) -> None:
    from dashboard.api.app import build_api

    tenant = await make_tenant("alpha")
    files = rita_files()[:6]
    worker = start_worker(service_env(), tmp_path / "worker.log")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_api()), base_url="http://sg.test") as api:
            await services.push_until_running(api, tenant.token, files[:3], tenant_id=tenant.tenant_id, polls=400)
            own_redis.kill()
            # while Redis is down: files are still accepted, and limits count in this process
            for path in files[3:5]:
                await push(api, tenant.token, path)
            limit = ratelimit.Limit("fault-test", 3, 60)
            assert [await ratelimit.hit(get_redis(), limit, "s") for _ in range(4)][:3] == [0, 0, 0]
            assert await ratelimit.hit(get_redis(), limit, "s") > 0 and ratelimit.using_fallback()
            own_redis.start()
            back = time.monotonic()
            await push(api, tenant.token, files[5])
            deadline = back + 240
            while True:
                counts = await services.job_statuses(tenant.tenant_id)
                async with session_scope() as session:
                    uploads = await graph_queries.list_uploads(session, tenant_id=tenant.tenant_id)
                if all(u.status == "ingested" for u in uploads) and not counts["queued"] + counts["running"] \
                        + counts["retrying"]:
                    break
                assert time.monotonic() < deadline, (counts, [u.status for u in uploads])
                await services.sweep_past_grace(tenant.tenant_id)
                await asyncio.sleep(1)
        recovered = time.monotonic() - back
        assert worker.poll() is None, "the supervisor itself ended"
    finally:
        stop(worker)
    # ARQ's worker ends when its Redis connection drops; the supervisor (./run, a container's restart policy)
    # starts it again
    print(f"redis restart: every upload ingested {recovered:.1f} s after Redis was back; "
          f"{restarts(tmp_path / 'worker.log')} worker restarts")
    assert len(uploads) == 6 and all(u.rows_accepted > 0 for u in uploads)
    async with session_scope() as session:
        snapshots = await graph_queries.list_snapshots(session, tenant_id=tenant.tenant_id)
    # the six hourly files give six hourly windows (and the edges of the next), every one built
    hours = {s.window_start.replace(minute=0) for s in snapshots}
    assert len(hours) >= 6
    # shared limits again once Redis answers
    await asyncio.sleep(ratelimit.REDIS_RETRY_SECONDS)
    assert await ratelimit.hit(get_redis(), ratelimit.Limit("fault-test-2", 3, 60), "s") == 0
    assert not ratelimit.using_fallback()
