"""The Alembic migration runs up, down and up again on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from models import migrate
from models.tables import metadata
from tests.conftest import create_database, drop_database

pytestmark = pytest.mark.integration


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


def _up_down_up(url: str) -> None:
    migrate.upgrade(url)
    assert asyncio.run(_tables(url)) == set(metadata.tables)
    migrate.downgrade(url)
    assert asyncio.run(_tables(url)) == set()
    migrate.upgrade(url)
    assert asyncio.run(_tables(url)) == set(metadata.tables)


def test_migrations_up_down_up_on_postgresql() -> None:
    url = asyncio.run(create_database())
    try:
        _up_down_up(url)
    finally:
        asyncio.run(drop_database(url))


def test_migrations_up_down_up_on_sqlite(tmp_path: Path) -> None:
    _up_down_up(f"sqlite+aiosqlite:///{tmp_path / 'sg.db'}")


def test_timestamps_are_timezone_aware_on_postgresql() -> None:
    url = asyncio.run(create_database())
    try:
        migrate.upgrade(url)

        async def column_type() -> str:
            engine = create_async_engine(url)
            async with engine.connect() as conn:
                row = (await conn.execute(sa.text(
                    "select data_type from information_schema.columns "
                    "where table_name='job_run' and column_name='enqueued_at'"))).one()
            await engine.dispose()
            return str(row[0])

        assert asyncio.run(column_type()) == "timestamp with time zone"
    finally:
        asyncio.run(drop_database(url))
