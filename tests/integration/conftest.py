"""A real ARQ worker on the test Redis, running in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import RedisSettings
from arq.worker import Worker

from jobs import worker as worker_settings
from jobs.runtime.connections import get_redis
from jobs.runtime.constants import WORKER_KEY_PATTERN
from jobs.runtime.queues import INTERACTIVE
from models import migrate
from models.db import dispose_engines
from models.settings import get_settings
from tests.conftest import TEST_REDIS_URL, create_database, drop_database


@pytest.fixture
async def client(app_ctx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """The REST API in-process (ASGI), with the flow store in this test's temporary folder."""
    from dashboard.api.app import build_api
    from models.settings import get_settings

    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_api()), base_url="http://sg.test") as c:
        yield c


GRACE_SECONDS = 10


@contextlib.asynccontextmanager
async def running_worker(extra_jobs: list[Any] | None = None) -> AsyncIterator[Worker]:
    """Start a worker with our jobs (plus test-only ones) on both queues, as `WorkerSettings` does (a second
    ARQ Worker for the bulk queue on the same loop, without cron entries), and stop it cleanly afterwards."""
    functions = worker_settings.functions_for([*worker_settings.JOBS, *(extra_jobs or [])])
    options: dict[str, Any] = {"redis_settings": RedisSettings.from_dsn(TEST_REDIS_URL), "poll_delay": 0.01,
                               "keep_result": 0, "allow_abort_jobs": True}
    worker = Worker(functions=functions, queue_name=INTERACTIVE, on_startup=worker_settings.startup_pair,
                    on_shutdown=worker_settings.shutdown, handle_signals=False, **options)
    bulk = worker_settings.companion_worker(functions, cron_jobs=[], **options)
    bulk_task = asyncio.create_task(bulk.async_run())
    task = asyncio.create_task(worker.async_run())
    # Yield only once startup ran (its heartbeat key exists), so tests see a live worker.
    for _ in range(200):
        if await get_redis().keys(WORKER_KEY_PATTERN):
            break
        await asyncio.sleep(0.01)
    try:
        yield worker
    finally:
        # Stop polling (no new job starts), let the jobs in flight end for a moment, then cancel the rest: a job
        # cancelled mid-query leaves its asyncpg connection to the garbage collector, whose warning then fails a
        # later test's setup.
        for poller in (task, bulk_task):
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        in_flight = [*worker.tasks.values(), *bulk.tasks.values()]
        if in_flight:
            await asyncio.wait(in_flight, timeout=GRACE_SECONDS)
        for job in in_flight:
            job.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        worker.tasks.clear()
        bulk.tasks.clear()
        await bulk.close()
        await worker.close()


@pytest.fixture
def worker_factory(app_ctx: str) -> Callable[..., contextlib.AbstractAsyncContextManager[Worker]]:
    return running_worker


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database of either kind, which every settings read points at."""
    postgres = request.param == "postgresql"
    url = asyncio.run(create_database()) if postgres else f"sqlite+aiosqlite:///{tmp_path / 'sg.db'}"
    migrate.upgrade(url)
    for name, value in (("SG_DATABASE_URL", url), ("SG_REDIS_URL", TEST_REDIS_URL), ("SG_ENV", "test")):
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield request.param
    get_settings.cache_clear()
    if postgres:
        asyncio.run(drop_database(url))


@pytest.fixture
async def db(backend: str) -> AsyncIterator[str]:
    """The backend's name; its engines are disposed afterwards."""
    yield backend
    await dispose_engines()
