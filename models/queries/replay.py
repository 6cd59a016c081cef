"""Read-only queries for Replay: a period's stored snapshots, what the page draws of them, the drift and incident
counts per window, and the policy versions with their audited status changes. Nothing here writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import DriftEvent
from models.errors import Invalid
from models.graph import Edge, Node, Snapshot
from models.incidents import Incident
from models.ops import AuditLog
from models.policy import Policy

MAX_FRAMES = 1000
POLICY_ACTIONS = (
    "policy.generate",
    "policy.submit",
    "policy.approve",
    "policy.reject",
    "policy.supersede",
    "policy.deployed",
)


async def snapshot_sources(session: AsyncSession, *, tenant_id: int) -> list[str]:
    """The distinct sources of the tenant's ready snapshots ('' included when some have none)."""
    query = select(Snapshot.source).where(Snapshot.tenant_id == tenant_id, Snapshot.status == "ready").distinct()
    return sorted(str(s or "") for s in await session.exec(query))


async def snapshot_span(session: AsyncSession, *, tenant_id: int) -> tuple[datetime, datetime] | None:
    """The start of the tenant's oldest ready window and the end of its newest; None without snapshots."""
    query = select(func.min(Snapshot.window_start), func.max(Snapshot.window_end)).where(
        Snapshot.tenant_id == tenant_id, Snapshot.status == "ready"
    )
    first, last = (await session.exec(query)).one()
    return (first, last) if first is not None and last is not None else None


async def period_snapshots(
    session: AsyncSession, *, tenant_id: int, start: datetime, end: datetime, source: str | None = None
) -> list[Snapshot]:
    """The tenant's ready snapshots whose window starts in `[start, end)`, oldest first (`source` None: any).

    Raises Invalid for an empty range or one holding more than MAX_FRAMES windows."""
    if start >= end:
        raise Invalid("the period's start must lie before its end")
    query = select(Snapshot).where(
        Snapshot.tenant_id == tenant_id,
        Snapshot.status == "ready",
        col(Snapshot.window_start) >= start,
        col(Snapshot.window_start) < end,
    )
    if source is not None:
        query = query.where(Snapshot.source == source)
    rows = list(await session.exec(query.order_by(col(Snapshot.window_start)).limit(MAX_FRAMES + 1)))
    if len(rows) > MAX_FRAMES:
        raise Invalid(f"this period holds more than {MAX_FRAMES:,} windows: choose a shorter one")
    return rows


async def period_nodes(
    session: AsyncSession, *, tenant_id: int, snapshot_ids: Sequence[int]
) -> list[tuple[str, str, str, str | None]]:
    """Each node seen in the snapshots once: (key, name, kind, namespace), for the period's layout."""
    if not snapshot_ids:
        return []
    query = (
        select(Node.key, Node.name, Node.kind, Node.namespace)
        .where(Node.tenant_id == tenant_id, col(Node.snapshot_id).in_(list(snapshot_ids)))
        .distinct()
    )
    seen: dict[str, tuple[str, str, str, str | None]] = {}
    for key, name, kind, namespace in await session.exec(query):
        seen.setdefault(key, (key, name, kind, namespace))
    return [seen[k] for k in sorted(seen)]


async def period_pairs(session: AsyncSession, *, tenant_id: int, snapshot_ids: Sequence[int]) -> list[tuple[str, str]]:
    """Each (src, dst) pair that talked in the snapshots once."""
    if not snapshot_ids:
        return []
    query = (
        select(Edge.src, Edge.dst)
        .where(Edge.tenant_id == tenant_id, col(Edge.snapshot_id).in_(list(snapshot_ids)))
        .distinct()
    )
    return sorted((str(s), str(d)) for s, d in await session.exec(query))


async def event_counts(
    session: AsyncSession, *, tenant_id: int, snapshot_ids: Sequence[int]
) -> list[tuple[datetime, str, int]]:
    """(window_start, severity, count) of the drift events of the snapshots."""
    if not snapshot_ids:
        return []
    query = (
        select(DriftEvent.window_start, DriftEvent.severity, func.count())
        .where(DriftEvent.tenant_id == tenant_id, col(DriftEvent.snapshot_id).in_(list(snapshot_ids)))
        .group_by(col(DriftEvent.window_start), col(DriftEvent.severity))
    )
    return [(start, str(severity), int(n)) for start, severity, n in await session.exec(query)]


async def incident_spans(
    session: AsyncSession, *, tenant_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """(first_seen, last_seen) of the incidents active in `[start, end)`."""
    query = select(Incident.first_seen, Incident.last_seen).where(
        Incident.tenant_id == tenant_id, col(Incident.first_seen) < end, col(Incident.last_seen) >= start
    )
    return [(first, last) for first, last in await session.exec(query)]


async def policy_versions(session: AsyncSession, *, tenant_id: int) -> list[Policy]:
    """Every policy version of the tenant that was ever approved (the only ones that can have been in force)."""
    approved = select(AuditLog.target).where(
        AuditLog.tenant_id == tenant_id, col(AuditLog.action).in_(("policy.approve", "policy.deployed"))
    )
    targets = {str(t) for t in await session.exec(approved)}
    ids = [int(t.split(":", 1)[1]) for t in targets if t.startswith("policy:") and t.split(":", 1)[1].isdigit()]
    if not ids:
        return []
    query = select(Policy).where(Policy.tenant_id == tenant_id, col(Policy.id).in_(ids)).order_by(col(Policy.id))
    return list(await session.exec(query))


async def policy_changes(
    session: AsyncSession, *, tenant_id: int, policy_ids: Sequence[int]
) -> list[tuple[int, datetime, str]]:
    """(policy id, when, status after) of every audited status change of those versions, oldest first."""
    if not policy_ids:
        return []
    targets = [f"policy:{pid}" for pid in policy_ids]
    query = (
        select(AuditLog.target, AuditLog.created_at, AuditLog.after)
        .where(
            AuditLog.tenant_id == tenant_id, col(AuditLog.action).in_(POLICY_ACTIONS), col(AuditLog.target).in_(targets)
        )
        .order_by(col(AuditLog.created_at), col(AuditLog.id))
    )
    found: list[tuple[int, datetime, str]] = []
    for target, at, after in await session.exec(query):
        status = (after or {}).get("status") if isinstance(after, dict) else None
        if isinstance(status, str):
            found.append((int(str(target).split(":", 1)[1]), at, status))
    return found


async def period_graphs(
    session: AsyncSession, *, tenant_id: int, snapshot_ids: Sequence[int]
) -> tuple[list[Node], list[Edge]]:
    """Every node and edge of the snapshots in two queries (a period's frames are then drawn without a query each),
    by snapshot, then key or id."""
    if not snapshot_ids:
        return [], []
    ids = list(snapshot_ids)
    nodes = await session.exec(
        select(Node)
        .where(Node.tenant_id == tenant_id, col(Node.snapshot_id).in_(ids))
        .order_by(col(Node.snapshot_id), col(Node.key))
    )
    edges = await session.exec(
        select(Edge)
        .where(Edge.tenant_id == tenant_id, col(Edge.snapshot_id).in_(ids))
        .order_by(col(Edge.snapshot_id), col(Edge.id))
    )
    return list(nodes), list(edges)


async def period_event_edges(
    session: AsyncSession, *, tenant_id: int, snapshot_ids: Sequence[int]
) -> list[tuple[int, str, str, int | None, str]]:
    """(snapshot_id, src, dst, dst_port, protocol) of each drift event of the snapshots: the edges they mark."""
    if not snapshot_ids:
        return []
    query = select(DriftEvent).where(
        DriftEvent.tenant_id == tenant_id, col(DriftEvent.snapshot_id).in_(list(snapshot_ids))
    )
    return [(e.snapshot_id, e.src, e.dst, e.dst_port, e.protocol or "") for e in await session.exec(query)]


async def period_stamp(session: AsyncSession, *, tenant_id: int, start: datetime, end: datetime) -> str:
    """What a cached period depends on, cheaply: its ready snapshots (count, newest id), the newest drift event
    and incident ids and the newest policy review entry of the tenant. A change to any gives another stamp."""
    snaps = select(func.count(), func.max(Snapshot.id)).where(
        Snapshot.tenant_id == tenant_id,
        Snapshot.status == "ready",
        col(Snapshot.window_start) >= start,
        col(Snapshot.window_start) < end,
    )
    count, newest = (await session.exec(snaps)).one()
    event = (await session.exec(select(func.max(DriftEvent.id)).where(DriftEvent.tenant_id == tenant_id))).one()
    incident = (await session.exec(select(func.max(Incident.id)).where(Incident.tenant_id == tenant_id))).one()
    review = (
        await session.exec(
            select(func.max(AuditLog.id)).where(
                AuditLog.tenant_id == tenant_id, col(AuditLog.action).startswith("policy.")
            )
        )
    ).one()
    return f"{count}:{newest}:{event}:{incident}:{review}"
