"""Which snapshot windows policy generation and the impact preview read.

Generation takes the windows a reviewer picks (ids, the newest N, or a period, per source) and reads only
those holding workloads; the impact preview of a policy reads the windows holding workloads of the
policy's namespace, newest first, and says how many there were. Clusters (issue 19 A4): a workload's node
key names its cluster (`cluster/namespace/name`) outside the cluster "default", where single-cluster data
and every flow format that names no cluster lives; `workload_clusters` lists those of the ready windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import Invalid
from models.graph import Node, Snapshot

DEFAULT_CLUSTER = "default"
ANY_SOURCE = "any"
# A workload key with two slashes names its cluster (jobs.engines.snapshot.types.node_key).
_CLUSTER_KEY = "%/%/%"


@dataclass(frozen=True)
class WindowChoices:
    """What the generation form offers: the sources seen, the period the ready windows span, and their count."""

    sources: list[str]
    first: datetime | None
    last: datetime | None
    windows: int
    workload_windows: int


def _ready(tenant_id: int) -> list[ColumnElement[bool]]:
    return [col(Snapshot.tenant_id) == tenant_id, col(Snapshot.status) == "ready"]


async def window_choices(session: AsyncSession, *, tenant_id: int) -> WindowChoices:
    """The sources of the tenant's ready windows, the period they cover, and how many hold workloads."""
    where = _ready(tenant_id)
    first, last, count = (
        await session.exec(
            select(func.min(Snapshot.window_start), func.max(Snapshot.window_end), func.count()).where(*where)
        )
    ).one()
    labels = await session.exec(select(Snapshot.source).where(*where).distinct())
    sources = sorted({part for label in labels for part in (label or "").split(",") if part})
    with_pods = (
        await session.exec(
            select(func.count(func.distinct(Node.snapshot_id))).where(
                Node.tenant_id == tenant_id,
                Node.kind == "workload",
                col(Node.snapshot_id).in_(select(Snapshot.id).where(*where)),
            )
        )
    ).one()
    return WindowChoices(sources, first, last, int(count), int(with_pods))


async def period_windows(
    session: AsyncSession,
    *,
    tenant_id: int,
    start: datetime,
    end: datetime,
    source: str = ANY_SOURCE,
    limit: int = 1000,
) -> list[Snapshot]:
    """The ready windows starting in [start, end) from `source` (any: all), oldest first, at most `limit`."""
    if end <= start:
        raise Invalid("the period's end must come after its start")
    where = [*_ready(tenant_id), col(Snapshot.window_start) >= start, col(Snapshot.window_start) < end]
    if source != ANY_SOURCE:
        where.append(func.concat(",", Snapshot.source, ",").contains(f",{source},"))
    query = select(Snapshot).where(*where).order_by(col(Snapshot.window_start)).limit(max(1, min(limit, 10_000)))
    return list(await session.exec(query))


def key_cluster(key: str) -> str:
    """The cluster a node key names: `default` unless it is `cluster/namespace/name`."""
    first, sep, rest = key.partition("/")
    return first if sep and "/" in rest else DEFAULT_CLUSTER


async def workload_clusters(session: AsyncSession, *, tenant_id: int) -> list[str]:
    """The clusters of the workloads in the tenant's ready windows, sorted; `[default]` when there is none."""
    ready = select(Snapshot.id).where(*_ready(tenant_id))
    workloads: list[ColumnElement[bool]] = [
        col(Node.tenant_id) == tenant_id, col(Node.kind) == "workload", col(Node.snapshot_id).in_(ready)
    ]
    named = await session.exec(select(Node.key).where(*workloads, col(Node.key).like(_CLUSTER_KEY)).distinct())
    found = {key_cluster(key) for key in named}
    plain = await session.exec(select(Node.key).where(*workloads, col(Node.key).not_like(_CLUSTER_KEY)).limit(1))
    if plain.first() is not None or not found:
        found.add(DEFAULT_CLUSTER)
    return sorted(found)


async def windows_with_workloads(session: AsyncSession, *, tenant_id: int, snapshot_ids: Sequence[int]) -> set[int]:
    """Those of the windows that hold at least one workload node."""
    if not snapshot_ids:
        return set()
    query = (
        select(Node.snapshot_id)
        .where(Node.tenant_id == tenant_id, col(Node.snapshot_id).in_(list(snapshot_ids)), Node.kind == "workload")
        .distinct()
    )
    return set(await session.exec(query))


async def namespace_windows(
    session: AsyncSession, *, tenant_id: int, namespace: str, limit: int, cluster: str | None = None
) -> list[Snapshot]:
    """The newest ready windows holding workloads of `namespace` (of `cluster` when given), newest first, at most
    `limit`."""
    where: list[ColumnElement[bool]] = [
        col(Node.tenant_id) == tenant_id, col(Node.kind) == "workload", col(Node.namespace) == namespace
    ]
    if cluster == DEFAULT_CLUSTER:
        where.append(col(Node.key).not_like(_CLUSTER_KEY))
    elif cluster:
        where.append(col(Node.key).startswith(f"{cluster}/"))
    holding = select(Node.snapshot_id).where(*where).distinct()
    query = (
        select(Snapshot)
        .where(*_ready(tenant_id), col(Snapshot.id).in_(holding))
        .order_by(col(Snapshot.window_start).desc())
        .limit(max(1, min(limit, 1000)))
    )
    return list(await session.exec(query))


async def newest_workload_window(session: AsyncSession, *, tenant_id: int) -> Snapshot | None:
    """The newest ready window holding any workload (what coverage is measured on)."""
    holding = select(Node.snapshot_id).where(Node.tenant_id == tenant_id, Node.kind == "workload").distinct()
    query = (
        select(Snapshot)
        .where(*_ready(tenant_id), col(Snapshot.id).in_(holding))
        .order_by(col(Snapshot.window_start).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()
