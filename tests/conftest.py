"""Fixtures shared by every test layer: a fresh PostgreSQL database and a clean Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from models import migrate
from models.db import dispose_engines
from models.settings import get_settings
from tests.fakes.git_providers import FakeProviders
from tests.fakes.gitops_fixtures import serving_fake_providers

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
ADMIN_DSN = os.environ.get("SG_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_REDIS_URL = os.environ.get("SG_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")

# Every test talks to loopback servers (the app, the OpenID Provider, the fakes): a proxy set in the machine's
# environment must not stand between them, nor reach the processes the tests start.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)


def _asyncpg_url(dsn: str, database: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def create_database() -> str:
    """A new, empty PostgreSQL database; returns its SQLAlchemy URL."""
    name = f"sg_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _asyncpg_url(ADMIN_DSN, name)


async def drop_database(url: str) -> None:
    """Drop a database made by create_database, closing its connections first."""
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test (isolation without shared state)."""
    url = asyncio.run(create_database())
    migrate.upgrade(url)
    yield url
    asyncio.run(drop_database(url))


@pytest.fixture
def sg_env(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point every SecureGuard settings read at the test database and the test Redis."""
    monkeypatch.setenv("SG_DATABASE_URL", pg_url)
    monkeypatch.setenv("SG_REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("SG_ENV", "test")
    get_settings.cache_clear()
    import redis

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    yield pg_url
    get_settings.cache_clear()


@pytest.fixture
async def app_ctx(sg_env: str) -> AsyncIterator[str]:
    """sg_env plus closing the pools and clients of the test's event loop afterwards."""
    from jobs.runtime.connections import close_connections

    yield sg_env
    await close_connections()
    await dispose_engines()


@pytest.fixture
def fake_providers(app_ctx: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviders]:
    """The GitHub and GitLab fakes (tests/fakes) serving on loopback, the settings pointed at them."""
    with serving_fake_providers(monkeypatch) as fake:
        yield fake
