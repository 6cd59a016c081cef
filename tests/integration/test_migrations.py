"""The Alembic migration runs up, down and up again on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
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


def _schema_differences(url: str) -> list[Any]:
    """What Alembic's autogenerate would still change: the migrations against the models' metadata."""
    async def compare() -> list[Any]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True, "compare_server_default": True}), metadata))
        await engine.dispose()
        return list(found)

    # 0002 gave api_token.service a server default '' that the model does not declare (harmless: the model always
    # sets it); anything else is a model the migrations do not build
    return [d for d in asyncio.run(compare()) if not (isinstance(d, list) and d[0][:4] == (
        "modify_default", None, "api_token", "service"))]


async def _insert(url: str, statements: list[str]) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements[:-1]:
                await conn.execute(sa.text(statement))
            return list((await conn.execute(sa.text(statements[-1]))).all())
    finally:
        await engine.dispose()


EVENT_0002 = (
    "INSERT INTO drift_event (tenant_id, snapshot_id, window_start, signature, kind, src, dst, protocol, severity, "
    "risk, reasons, evidence, explanation, status, status_by, created_at) VALUES (1, 1, '2026-01-05 10:00:00+00', "
    "'new_edge|a|b|1|tcp', 'new_edge', 'a', 'b', 'tcp', 'low', 20, '[]', '{}', '', 'open', '', "
    "'2026-01-05 10:00:00+00')"
)


def _incidents_on_existing_data(url: str) -> None:
    """0003 on a database with drift events: they become drift's; detection may then repeat a signature; down
    again drops detection's events (and their feedback) and keeps drift's."""
    migrate.upgrade(url, "0002")
    asyncio.run(_insert(url, [
        "INSERT INTO tenant (id, name, settings, created_at) VALUES (1, 't', '{}', '2026-01-05 10:00:00+00')",
        "INSERT INTO snapshot (id, tenant_id, window_start, window_end, status, source, node_count, edge_count) "
        "VALUES (1, 1, '2026-01-05 10:00:00+00', '2026-01-05 11:00:00+00', 'ready', 'test', 0, 0)",
        EVENT_0002, "SELECT 1"]))
    migrate.upgrade(url)
    assert _schema_differences(url) == []
    origins = asyncio.run(_insert(url, [
        EVENT_0002.replace("(tenant_id,", "(origin, tenant_id,").replace("VALUES (1,", "VALUES ('detect', 1,"),
        "INSERT INTO feedback (tenant_id, event_id, verdict, note, created_at) SELECT 1, id, 'true_positive', '', "
        "'2026-01-05 10:00:00+00' FROM drift_event WHERE origin = 'detect'",
        "SELECT origin FROM drift_event ORDER BY id"]))
    assert [o for (o,) in origins] == ["drift", "detect"]
    with pytest.raises(sa.exc.IntegrityError):
        asyncio.run(_insert(url, [EVENT_0002, "SELECT 1"]))
    migrate.downgrade(url, "0002")
    left = asyncio.run(_insert(url, ["SELECT kind, (SELECT count(*) FROM feedback) FROM drift_event"]))
    assert [tuple(r) for r in left] == [("new_edge", 0)]


def test_incidents_migration_on_existing_data_on_postgresql() -> None:
    url = asyncio.run(create_database())
    try:
        _incidents_on_existing_data(url)
    finally:
        asyncio.run(drop_database(url))


def test_incidents_migration_on_existing_data_on_sqlite(tmp_path: Path) -> None:
    _incidents_on_existing_data(f"sqlite+aiosqlite:///{tmp_path / 'sg.db'}")


def _namespace_modes_on_existing_data(url: str) -> None:
    """0004 on a database with events: they get no policy; a namespace mode is unique per cluster; down again drops
    the monitor's violations (and their feedback) and keeps drift's events."""
    migrate.upgrade(url, "0003")
    asyncio.run(_insert(url, [
        "INSERT INTO tenant (id, name, settings, created_at) VALUES (1, 't', '{}', '2026-01-05 10:00:00+00')",
        "INSERT INTO snapshot (id, tenant_id, window_start, window_end, status, source, node_count, edge_count) "
        "VALUES (1, 1, '2026-01-05 10:00:00+00', '2026-01-05 11:00:00+00', 'ready', 'test', 0, 0)",
        EVENT_0002, "SELECT 1"]))
    migrate.upgrade(url)
    assert _schema_differences(url) == []
    mode = ("INSERT INTO namespace_mode (tenant_id, cluster, namespace, mode, reason, changed_by, changed_at) "
            "VALUES (1, 'default', 'shop', 'monitor', 'r', 'a', '2026-01-05 10:00:00+00')")
    violation = EVENT_0002.replace("(tenant_id,", "(origin, tenant_id,").replace("VALUES (1,", "VALUES ('monitor', 1,")
    rows = asyncio.run(_insert(url, [
        mode, violation.replace("'new_edge', 'a'", "'violation', 'a'"),
        "INSERT INTO feedback (tenant_id, event_id, verdict, note, created_at) SELECT 1, id, 'true_positive', '', "
        "'2026-01-05 10:00:00+00' FROM drift_event WHERE origin = 'monitor'",
        "SELECT kind, policy_id FROM drift_event ORDER BY id"]))
    assert [tuple(r) for r in rows] == [("new_edge", None), ("violation", None)]
    with pytest.raises(sa.exc.IntegrityError):
        asyncio.run(_insert(url, [mode, "SELECT 1"]))
    migrate.downgrade(url, "0003")
    left = asyncio.run(_insert(url, ["SELECT kind, (SELECT count(*) FROM feedback) FROM drift_event"]))
    assert [tuple(r) for r in left] == [("new_edge", 0)]
    assert "namespace_mode" not in asyncio.run(_tables(url))


def test_namespace_modes_migration_on_existing_data_on_postgresql() -> None:
    url = asyncio.run(create_database())
    try:
        _namespace_modes_on_existing_data(url)
    finally:
        asyncio.run(drop_database(url))


def test_namespace_modes_migration_on_existing_data_on_sqlite(tmp_path: Path) -> None:
    _namespace_modes_on_existing_data(f"sqlite+aiosqlite:///{tmp_path / 'sg.db'}")
