"""Queries for flow uploads and snapshots (the per-window service graph)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.bulk import insert_rows
from models.errors import NotFound
from models.graph import Edge, FlowUpload, Node, Snapshot
from models.types import utcnow

if TYPE_CHECKING:  # polars is imported where frames are written: the CLI and web avoid its import cost
    import polars as pl

NODE_COLUMNS = ("tenant_id", "snapshot_id", "key", "name", "kind", "namespace", "labels")
EDGE_COLUMNS = (
    "tenant_id", "snapshot_id", "src", "dst", "dst_port", "protocol", "bytes", "packets", "flows",
    "rejected", "first_seen", "last_seen",
)


async def create_upload(
    session: AsyncSession, *, tenant_id: int, filename: str, size_bytes: int, source_format: str,
    stored_path: str, created_by: str,
) -> FlowUpload:
    """Record a received flow file before it is parsed."""
    upload = FlowUpload(
        tenant_id=tenant_id, filename=filename[:255], size_bytes=size_bytes, source_format=source_format,
        stored_path=stored_path, created_by=created_by, status="received",
    )
    session.add(upload)
    await session.flush()
    return upload


async def get_upload(session: AsyncSession, *, tenant_id: int, upload_id: int) -> FlowUpload:
    """One of the tenant's uploads."""
    upload = (
        await session.exec(select(FlowUpload).where(FlowUpload.tenant_id == tenant_id, FlowUpload.id == upload_id))
    ).first()
    if upload is None:
        raise NotFound(f"upload {upload_id} not found")
    return upload


async def list_uploads(session: AsyncSession, *, tenant_id: int, limit: int = 20) -> list[FlowUpload]:
    """The tenant's newest uploads."""
    query = (
        select(FlowUpload).where(FlowUpload.tenant_id == tenant_id)
        .order_by(col(FlowUpload.id).desc()).limit(min(max(limit, 1), 200))
    )
    return list(await session.exec(query))


async def finish_upload(
    session: AsyncSession, *, tenant_id: int, upload_id: int, status: str, accepted: int = 0, rejected: int = 0,
    skipped: int = 0, errors: Sequence[Mapping[str, Any]] = (), reason: str = "", source_format: str | None = None,
) -> FlowUpload:
    """Store the outcome of parsing: counts, the first bad lines, or the reason the file was refused."""
    upload = await get_upload(session, tenant_id=tenant_id, upload_id=upload_id)
    upload.status, upload.reason = status, reason[:1000]
    upload.rows_accepted, upload.rows_rejected, upload.rows_skipped = accepted, rejected, skipped
    upload.errors = [dict(e) for e in errors]
    if source_format:
        upload.source_format = source_format
    session.add(upload)
    return upload


async def _snapshot_row(
    session: AsyncSession, *, tenant_id: int, window_start: datetime, window_end: datetime
) -> Snapshot:
    row = (
        await session.exec(select(Snapshot).where(
            Snapshot.tenant_id == tenant_id, Snapshot.window_start == window_start, Snapshot.window_end == window_end,
        ).with_for_update())
    ).first()
    if row is None:
        row = Snapshot(tenant_id=tenant_id, window_start=window_start, window_end=window_end, status="building")
        session.add(row)
        await session.flush()
    return row


async def replace_snapshot(
    session: AsyncSession, *, tenant_id: int, window_start: datetime, window_end: datetime, source: str,
    nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]],
) -> Snapshot:
    """Create or rebuild the window's snapshot in the caller's transaction.

    Readers see the old snapshot or the new one, never a mix: nodes and edges are swapped and the
    row marked ready within one transaction. Building the same window again reuses the row.
    """
    snapshot = await _cleared_snapshot(session, tenant_id, window_start, window_end)
    scope = {"tenant_id": tenant_id, "snapshot_id": snapshot.id}
    await insert_rows(session, Node, NODE_COLUMNS, [{**n, **scope} for n in nodes])
    await insert_rows(session, Edge, EDGE_COLUMNS, [{**e, **scope} for e in edges])
    return await _mark_ready(session, snapshot, source, len(nodes), len(edges))


async def replace_snapshot_frames(
    session: AsyncSession, *, tenant_id: int, window_start: datetime, window_end: datetime, source: str,
    nodes: pl.DataFrame, edges: pl.DataFrame,
) -> Snapshot:
    """`replace_snapshot` for columns: `nodes` has the node columns (labels as JSON text), `edges` the edge
    columns (extra columns are ignored). On PostgreSQL the frames go to COPY as CSV, with no Python
    object per row."""
    import polars as pl

    snapshot = await _cleared_snapshot(session, tenant_id, window_start, window_end)
    scope = [pl.lit(tenant_id, pl.Int64).alias("tenant_id"), pl.lit(snapshot.id, pl.Int64).alias("snapshot_id")]
    node_rows = nodes.select(*scope, *NODE_COLUMNS[2:])
    edge_rows = edges.select(*scope, *EDGE_COLUMNS[2:])
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = (await connection.get_raw_connection()).driver_connection
        for table, rows in ((Node, node_rows), (Edge, edge_rows)):
            if rows.height:
                # polars quotes empty strings and leaves nulls empty: COPY's CSV reads them back exactly.
                data = rows.write_csv(include_header=False, datetime_format="%Y-%m-%dT%H:%M:%S%.6f%z")
                await raw.copy_to_table(  # type: ignore[union-attr]
                    table.__tablename__, source=io.BytesIO(data.encode()), columns=list(rows.columns), format="csv"
                )
    else:
        node_dicts = [{**row, "labels": json.loads(row["labels"])} for row in node_rows.to_dicts()]
        await insert_rows(session, Node, NODE_COLUMNS, node_dicts)
        await insert_rows(session, Edge, EDGE_COLUMNS, edge_rows.to_dicts())
    return await _mark_ready(session, snapshot, source, nodes.height, edges.height)


async def _cleared_snapshot(
    session: AsyncSession, tenant_id: int, window_start: datetime, window_end: datetime
) -> Snapshot:
    """The window's row (created when missing, locked) with its nodes and edges deleted."""
    snapshot = await _snapshot_row(session, tenant_id=tenant_id, window_start=window_start, window_end=window_end)
    sid = snapshot.id
    await session.exec(delete(Edge).where(col(Edge.tenant_id) == tenant_id, col(Edge.snapshot_id) == sid))
    await session.exec(delete(Node).where(col(Node.tenant_id) == tenant_id, col(Node.snapshot_id) == sid))
    return snapshot


async def _mark_ready(session: AsyncSession, snapshot: Snapshot, source: str, nodes: int, edges: int) -> Snapshot:
    snapshot.node_count, snapshot.edge_count = nodes, edges
    snapshot.source, snapshot.status, snapshot.built_at = source[:32], "ready", utcnow()
    session.add(snapshot)
    await session.flush()
    return snapshot


async def list_snapshots(
    session: AsyncSession, *, tenant_id: int, limit: int = 50, offset: int = 0, ready_only: bool = True
) -> list[Snapshot]:
    """The tenant's snapshots, newest window first."""
    query = select(Snapshot).where(Snapshot.tenant_id == tenant_id)
    if ready_only:
        query = query.where(Snapshot.status == "ready")
    query = query.order_by(col(Snapshot.window_start).desc()).limit(min(max(limit, 1), 1000)).offset(max(offset, 0))
    return list(await session.exec(query))


async def count_snapshots(session: AsyncSession, *, tenant_id: int) -> int:
    """How many ready snapshots the tenant has."""
    query = select(func.count()).select_from(Snapshot)
    query = query.where(Snapshot.tenant_id == tenant_id, Snapshot.status == "ready")
    return int((await session.exec(query)).one())


async def get_snapshot(session: AsyncSession, *, tenant_id: int, snapshot_id: int) -> Snapshot:
    """One of the tenant's ready snapshots."""
    row = (
        await session.exec(select(Snapshot).where(
            Snapshot.tenant_id == tenant_id, Snapshot.id == snapshot_id, Snapshot.status == "ready"))
    ).first()
    if row is None:
        raise NotFound(f"snapshot {snapshot_id} not found")
    return row


async def snapshot_graph(session: AsyncSession, *, tenant_id: int, snapshot_id: int) -> tuple[list[Node], list[Edge]]:
    """The nodes and edges of one of the tenant's snapshots."""
    await get_snapshot(session, tenant_id=tenant_id, snapshot_id=snapshot_id)
    nodes = await session.exec(
        select(Node).where(Node.tenant_id == tenant_id, Node.snapshot_id == snapshot_id).order_by(col(Node.key))
    )
    edges = await session.exec(
        select(Edge).where(Edge.tenant_id == tenant_id, Edge.snapshot_id == snapshot_id).order_by(col(Edge.id))
    )
    return list(nodes), list(edges)
