"""Bulk writes: thousands of rows in one round trip.

On PostgreSQL rows go in with COPY (asyncpg's `copy_records_to_table`, far faster than INSERT for
snapshot-sized batches, docs/decisions.md); JSON columns travel as text, which is how COPY takes them.
On SQLite one executemany INSERT. Both run in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import insert, text
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


def _json_columns(table: sa.Table, columns: Sequence[str]) -> set[str]:
    return {name for name in columns if isinstance(table.c[name].type, sa.JSON)}


async def insert_rows(
    session: AsyncSession, model: type[SQLModel], columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` (mappings holding at least `columns`) into `model`'s table."""
    if not rows:
        return
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await session.exec(insert(table), params=[{c: row[c] for c in columns} for row in rows])
        return
    as_text = _json_columns(table, columns)
    records = [tuple(json.dumps(row[c]) if c in as_text else row[c] for c in columns) for row in rows]
    raw = (await connection.get_raw_connection()).driver_connection
    await raw.copy_records_to_table(table.name, records=records, columns=list(columns))  # type: ignore[union-attr]


async def reserve_ids(session: AsyncSession, model: type[SQLModel], count: int) -> list[int] | None:
    """`count` fresh primary keys from the table's sequence on PostgreSQL (for rows written by COPY,
    which returns no ids); None on SQLite, where the caller inserts through the ORM instead."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return None
    if count <= 0:
        return []
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
    result = await connection.execute(query, {"table": table.name, "n": count})
    return [int(value) for (value,) in result]
