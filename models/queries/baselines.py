"""Queries for the `baseline` table: per edge key, presence and volumes over the last N windows.

The drift job recomputes the baseline from its engine snapshots; this table is the readable copy
(for pages, reports and other processes), replaced whole after each detection of the newest window
and by the half-hourly refresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.bulk import insert_rows
from models.drift import Baseline
from models.types import utcnow

_SUMMARY = ("windows_seen", "bytes_mean", "bytes_std", "flows_mean", "flows_std")
COLUMNS = ("tenant_id", "src", "dst", "dst_port", "protocol", *_SUMMARY, "last_seen", "samples", "updated_at")


def _row(tenant_id: int, edge: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id, "src": edge["src"][:300], "dst": edge["dst"][:300], "dst_port": edge["dst_port"],
        "protocol": edge["protocol"][:16], **{name: edge[name] for name in _SUMMARY},
        "last_seen": datetime.fromisoformat(edge["last_seen"]), "samples": list(edge["samples"]), "updated_at": now,
    }


async def replace_baselines(session: AsyncSession, *, tenant_id: int, rows: Sequence[Mapping[str, Any]]) -> int:
    """Replace the tenant's baseline with the `edge` rows of `baseline_to_rows()`; returns how many."""
    now = utcnow()
    edges = [_row(tenant_id, row, now) for row in rows if row.get("row_type") == "edge"]
    await session.exec(delete(Baseline).where(col(Baseline.tenant_id) == tenant_id))
    if not edges:
        return 0
    # COPY on PostgreSQL: tens of thousands of rows per refresh
    await insert_rows(session, Baseline, COLUMNS, edges)
    return len(edges)


async def list_baselines(
    session: AsyncSession, *, tenant_id: int, src: str | None = None, dst: str | None = None, limit: int = 500
) -> list[Baseline]:
    """The tenant's baseline rows, optionally for one source and/or destination, busiest first."""
    query = select(Baseline).where(Baseline.tenant_id == tenant_id)
    if src is not None:
        query = query.where(Baseline.src == src)
    if dst is not None:
        query = query.where(Baseline.dst == dst)
    query = query.order_by(col(Baseline.bytes_mean).desc(), col(Baseline.id)).limit(min(max(limit, 1), 5000))
    return list(await session.exec(query))


async def baseline_edges_before(session: AsyncSession, *, tenant_id: int, before: datetime) -> list[dict[str, Any]]:
    """The stored baseline's edges as they were before window `before`: each edge seen in an earlier
    window, with its mean bytes and flows over those windows (the Graph page's "latest vs baseline")."""
    rows = await session.exec(select(Baseline).where(Baseline.tenant_id == tenant_id))
    found: list[dict[str, Any]] = []
    for row in rows:
        earlier = [s for s in row.samples if datetime.fromisoformat(s[0]) < before]
        if earlier:
            found.append({
                "src": row.src, "dst": row.dst, "dst_port": row.dst_port, "protocol": row.protocol,
                "windows": len(earlier), "bytes": round(sum(int(s[1]) for s in earlier) / len(earlier)),
                "flows": round(sum(int(s[2]) for s in earlier) / len(earlier)), "last_seen": row.last_seen,
            })
    return found
