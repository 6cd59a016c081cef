"""Copy every table of a SQLite SecureGuard database into PostgreSQL (issue 20 item 7; `sg db migrate-sqlite`).

Decisions:
- The target's schema comes from the project's own migrations (`models.migrate.upgrade`, run by the command
  before this module copies), so both sides have the same tables; the source must be at the same revision.
- Tables are copied parents first (`metadata.sorted_tables`), each in primary-key order and in batches; only
  rows whose primary key the target lacks are inserted (and `ON CONFLICT DO NOTHING` on top), so a second run
  copies nothing and an interrupted run can be resumed. Ids are kept as they are.
- After the copy each integer id sequence is set past the largest id (`setval`), so the next insert gets a
  new id.
- Integrity: per table the row count and a SHA-256 over the rows in primary-key order, each value in a form
  both backends give alike (UTC timestamps, JSON with sorted keys), read back from source and target.
- A dry run reads both sides and reports what would be copied; it writes nothing (not even the schema).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from models.tables import metadata

MAX_PARAMETERS: Final = 30_000  # asyncpg allows 32,767 bind parameters per statement


@dataclass(frozen=True, slots=True)
class TableReport:
    """One table: rows and checksum on each side, and how many rows this run copied (or would copy)."""

    name: str
    source_rows: int
    target_rows: int
    copied: int
    source_sum: str
    target_sum: str

    @property
    def equal(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


def tables() -> list[sa.Table]:
    """The tables to copy, parents before children."""
    return list(metadata.sorted_tables)


async def revision(conn: AsyncConnection) -> str | None:
    """The Alembic revision of the database, None when it has no schema."""
    if not await conn.run_sync(lambda sync: sa.inspect(sync).has_table("alembic_version")):
        return None
    return (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar()


async def copy_table(source: AsyncConnection, target: AsyncConnection | None, table: sa.Table, batch_rows: int,
                     *, write: bool) -> int:
    """Insert into `target` the rows of `table` it lacks, batch by batch; returns how many (would be) copied.

    `target` None: the target has no schema yet (dry run), so every row would be copied."""
    copied = 0
    keys = list(table.primary_key.columns)
    size = max(1, min(batch_rows, MAX_PARAMETERS // len(table.columns)))
    async for rows in _batches(source, table, size):
        fresh = rows
        if target is not None:
            present = await _present_keys(target, keys, rows)
            fresh = [row for row in rows if tuple(row[k.name] for k in keys) not in present]
        if fresh and write and target is not None:
            await target.execute(pg_insert(table).values(fresh).on_conflict_do_nothing())
        copied += len(fresh)
    return copied


async def reset_sequence(target: AsyncConnection, table: sa.Table) -> None:
    """Set the table's id sequence to its largest id, so the next insert gets a new one."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
        return
    name = keys[0].name
    sequence = (await target.execute(sa.select(sa.func.pg_get_serial_sequence(table.name, name)))).scalar()
    if sequence is None:
        return
    largest = (await target.execute(sa.select(sa.func.max(table.c[name])))).scalar()
    await target.execute(sa.select(sa.func.setval(sequence, largest or 1, largest is not None)))


async def fingerprint(conn: AsyncConnection | None, table: sa.Table, batch_rows: int) -> tuple[int, str]:
    """(rows, SHA-256 of the rows in primary-key order); (0, "") when `conn` is None (no schema)."""
    if conn is None:
        return 0, ""
    digest, count = hashlib.sha256(), 0
    names = [column.name for column in table.columns]
    async for rows in _batches(conn, table, batch_rows):
        for row in rows:
            digest.update(json.dumps([_plain(row[name]) for name in names], separators=(",", ":")).encode())
            digest.update(b"\n")
        count += len(rows)
    return count, digest.hexdigest()


async def _batches(conn: AsyncConnection, table: sa.Table, size: int) -> AsyncIterator[list[dict[str, Any]]]:
    """The table's rows in primary-key order, `size` at a time (keyset paging: no OFFSET rescans)."""
    keys = list(table.primary_key.columns)
    after: tuple[Any, ...] | None = None
    while True:
        query = sa.select(table).order_by(*keys).limit(size)
        if after is not None:
            query = query.where(sa.tuple_(*keys) > sa.tuple_(*after))
        rows = [dict(row) for row in (await conn.execute(query)).mappings()]
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        after = tuple(rows[-1][key.name] for key in keys)


async def _present_keys(target: AsyncConnection, keys: Sequence[sa.Column[Any]], rows: list[dict[str, Any]]) -> set[
        tuple[Any, ...]]:
    wanted = [tuple(row[key.name] for key in keys) for row in rows]
    query = sa.select(*keys).where(sa.tuple_(*keys).in_(wanted))
    return {tuple(found) for found in (await target.execute(query)).all()}


def _plain(value: Any) -> Any:
    """A value as JSON both backends give alike: UTC ISO timestamps, sorted JSON, exact decimals."""
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value
