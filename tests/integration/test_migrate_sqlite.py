"""`sg db migrate-sqlite`: a populated SQLite database (the project's migrations, rows in every table) copied into a
fresh PostgreSQL database by the real command; counts, checksums and ids equal, sequences moved on, re-run and
dry run write nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from jobs.cli import sqlite_copy
from jobs.demo.seed import DEMO_USERS, SAMPLES_ENV
from models import migrate
from models.tables import metadata
from tests.conftest import ROOT, TEST_REDIS_URL, create_database, drop_database

pytestmark = pytest.mark.integration
SG = str(ROOT / ".venv/bin/sg")
ROWS = 7  # per table; one row of each integer-id table is then deleted, so ids have a gap


def value(column: sa.Column[Any], i: int, ids: dict[str, list[Any]]) -> Any:
    if column.foreign_keys:
        parent = next(iter(column.foreign_keys)).column.table.name
        return ids[parent][i % len(ids[parent])]
    kind = type(column.type).__name__
    if kind == "Boolean":
        return i % 2 == 0
    if kind == "UTCDateTime":
        return datetime(2024, 4, 19, 12, 30, 15, 123456, tzinfo=UTC) + timedelta(hours=i)
    if kind == "JSON":
        return {"i": i, "ports": [22, 443], "nested": {"b": "é", "a": None}}
    if kind == "Float":
        return i * 1.25 + 0.1
    if kind in ("Integer", "BigInteger"):
        return 1_000 + i
    length = getattr(column.type, "length", None) or 64
    return f"{column.table.name}.{column.name} {i} ü"[:length]


async def populate(url: str) -> dict[str, list[Any]]:
    """Rows in every table besides what the demo seeding made (children point at their parents' rows); returns
    each table's ids."""
    engine = create_async_engine(url)
    ids: dict[str, list[Any]] = {}
    async with engine.begin() as conn:
        for table in metadata.sorted_tables:
            key = next(iter(table.primary_key.columns))
            for i in range(ROWS):
                row = {c.name: value(c, i, ids) for c in table.columns
                       if not (c is key and isinstance(c.type, sa.Integer) and not c.foreign_keys)}
                if table.name == "api_token":
                    row["service"] = ""  # a person's token: the check wants a user or a service
                await conn.execute(table.insert().values(row))
            found = (await conn.execute(sa.select(key).order_by(key))).scalars().all()
            if isinstance(key.type, sa.Integer) and not [fk for t in metadata.tables.values() for fk in t.foreign_keys
                                                         if fk.column is key]:
                gap = found[-3]  # one of this function's rows: a gap the copy must keep
                await conn.execute(table.delete().where(key == gap))
                found = [k for k in found if k != gap]
            ids[table.name] = list(found)
    await engine.dispose()
    return ids


async def contents(url: str) -> dict[str, tuple[int, str]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        sums = {t.name: await sqlite_copy.fingerprint(conn, t, 3) for t in metadata.sorted_tables}
    await engine.dispose()
    return sums


def sg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SG, "db", "migrate-sqlite", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"}, check=False)


async def seed(source: str) -> str:
    """`sg demo seed`'s tenant, users and queued uploads (the generated estate), on the SQLite database."""
    from jobs.demo.seed import seed_demo
    from jobs.runtime.connections import close_connections
    from models.db import dispose_engines

    try:
        _, what = await seed_demo()
    finally:
        await close_connections()
        await dispose_engines()
    return what


@pytest.fixture
def databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from models.settings import get_settings

    path = tmp_path / "secureguard.db"
    source = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(source)
    for name, setting in (("SG_DATABASE_URL", source), ("SG_REDIS_URL", TEST_REDIS_URL),
                          ("SG_DATA_DIR", str(tmp_path / "data")), (SAMPLES_ENV, "generated"), ("SG_ENV", "test")):
        monkeypatch.setenv(name, setting)
    get_settings.cache_clear()
    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    assert "generated estate" in asyncio.run(seed(source))
    ids = asyncio.run(populate(source))
    target = asyncio.run(create_database())
    yield path, source, target, ids
    asyncio.run(drop_database(target))
    get_settings.cache_clear()


def test_sqlite_database_moves_to_postgresql_whole_and_a_rerun_copies_nothing(databases: Any) -> None:
    path, source, target, ids = databases
    dry = sg("--from", str(path), "--to", target, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    expected = sum(len(found) for found in ids.values())
    assert f"dry run: {expected} rows would be copied; nothing was written" in dry.stderr
    assert asyncio.run(_revision(target)) is None  # not even the schema was written

    done = sg("--from", str(path), "--to", target, "--batch-rows", "4")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"copied {expected} rows; every table is equal on both sides" in done.stderr
    assert asyncio.run(contents(target)) == asyncio.run(contents(source))
    assert asyncio.run(_ids(target)) == ids
    # the demo seeding's rows came across: its tenant, three users and the four queued estate files
    demo = asyncio.run(_demo(target))
    assert demo == (3, 4), demo

    again = sg("--from", str(path), "--to", target)
    assert again.returncode == 0 and "copied 0 rows; every table is equal on both sides" in again.stderr
    dry_again = sg("--from", str(path), "--to", target, "--dry-run")
    assert "dry run: 0 rows would be copied" in dry_again.stderr

    # the sequences moved past the copied ids: a new tenant gets the next id, not a taken one
    assert asyncio.run(_new_tenant_id(target)) == max(ids["tenant"]) + 1


def test_missing_source_file_is_refused(tmp_path: Path) -> None:
    result = sg("--from", str(tmp_path / "nope.db"), "--to", "postgresql+asyncpg://postgres@127.0.0.1/x")
    assert result.returncode != 0 and "no SQLite database at" in result.stderr


async def _revision(url: str) -> str | None:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        found = await sqlite_copy.revision(conn)
    await engine.dispose()
    return found


async def _ids(url: str) -> dict[str, list[Any]]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        found = {}
        for table in metadata.sorted_tables:
            key = next(iter(table.primary_key.columns))
            found[table.name] = list((await conn.execute(sa.select(key).order_by(key))).scalars().all())
    await engine.dispose()
    return found


async def _new_tenant_id(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        table = metadata.tables["tenant"]
        row = {c.name: value(c, 99, {}) for c in table.columns if c.name != "id"}
        new_id = (await conn.execute(table.insert().values(row).returning(table.c.id))).scalar_one()
    await engine.dispose()
    return int(new_id)


async def _demo(url: str) -> tuple[int, int]:
    engine = create_async_engine(url)
    tenant, user, upload = (metadata.tables[name] for name in ("tenant", "user", "flow_upload"))
    async with engine.connect() as conn:
        demo_id = (await conn.execute(sa.select(tenant.c.id).where(tenant.c.name == "demo"))).scalar_one()
        users = (await conn.execute(sa.select(sa.func.count()).where(
            user.c.tenant_id == demo_id, user.c.email.in_([email for email, _, _ in DEMO_USERS])))).scalar_one()
        files = (await conn.execute(sa.select(sa.func.count()).where(
            upload.c.tenant_id == demo_id, upload.c.filename.like("demo-estate-%")))).scalar_one()
    await engine.dispose()
    return int(users), int(files)
