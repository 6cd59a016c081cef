"""PostgreSQL restarted (`pg_ctl restart -m immediate`: every connection cut) while a worker ingests the Zeek
sample: the next request and the next job succeed, and no job is left running. The cluster is the test's own
(initdb into /tmp, its own port); the worker runs under `./run supervise` as in `./run demo`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis

from jobs.runtime.connections import close_connections
from models import migrate
from models.db import dispose_engines, session_scope
from models.queries import graph as graph_queries
from models.queries import jobs as job_queries
from models.settings import get_settings
from tests.builders import bearer, make_tenant
from tests.conftest import TEST_REDIS_URL
from tests.integration.drift_support import push, rita_files
from tests.integration.faults import services
from tests.integration.faults.services import Postgres, restarts, service_env, start_worker, stop

pytestmark = pytest.mark.integration


@pytest.fixture
async def own_postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Postgres]:
    cluster = Postgres()
    cluster.start()
    try:
        cluster.create_database("sg")
        url = cluster.url("sg")
        await asyncio.to_thread(migrate.upgrade, url)
        services.use_services(monkeypatch, tmp_path / "data", database_url=url, redis_url=TEST_REDIS_URL)
        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
        yield cluster
    finally:
        await close_connections()
        await dispose_engines()
        cluster.stop()
        cluster.remove()
        get_settings.cache_clear()


async def test_a_postgres_restart_mid_ingestion_leaves_no_job_running(own_postgres: Postgres, tmp_path: Path) -> None:
    from dashboard.api.app import build_api

    tenant = await make_tenant("alpha")
    files = rita_files()[:3]
    log = tmp_path / "worker.log"
    worker = start_worker(service_env(), log)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_api()), base_url="http://sg.test") as api:
            await services.push_until_running(api, tenant.token, files[:2], tenant_id=tenant.tenant_id, polls=800)
            await asyncio.to_thread(own_postgres.restart)
            back = time.monotonic()
            # the next request succeeds (the pool's dead connections are replaced, not handed out)
            listed = await api.get("/api/v1/jobs", headers=bearer(tenant.token))
            assert listed.status_code == 200, listed.text
            first_answer = time.monotonic() - back
            # the next job succeeds
            pushed = await push(api, tenant.token, files[2])
            deadline = back + 240
            while True:
                counts = await services.job_statuses(tenant.tenant_id)
                async with session_scope() as session:
                    uploads = await graph_queries.list_uploads(session, tenant_id=tenant.tenant_id)
                    latest = await job_queries.get_job_run(session, tenant_id=tenant.tenant_id,
                                                           job_run_id=pushed["job_id"])
                if latest.status == "succeeded" and not counts["queued"] + counts["running"] + counts["retrying"]:
                    break
                assert time.monotonic() < deadline, (counts, latest.status, [u.status for u in uploads])
                await services.sweep_past_grace(tenant.tenant_id)
                await asyncio.sleep(1)
            settled_after = time.monotonic() - back
        assert worker.poll() is None
    finally:
        stop(worker)
    assert counts["running"] == 0 and counts["queued"] == 0 and counts["retrying"] == 0
    assert all(u.status == "ingested" for u in uploads), [u.status for u in uploads]
    print(f"postgres restart: first request answered {first_answer:.2f} s after the restart returned; every job "
          f"finished {settled_after:.1f} s after; {restarts(log)} worker restarts; job statuses {counts}")
