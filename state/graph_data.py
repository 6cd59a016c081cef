"""Loading what the Graph page draws: a snapshot's graph from the database, its layout, its drift events, the
tenant's home networks and the outside addresses' enrichment (stored per upload at ingest, `jobs.stores.enrichment`:
read, never looked up again per view)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.graph.layout import Layout
from jobs.engines.graph.model import EdgeKey, Enrichment, Graph
from jobs.engines.graph.zones import outside_addresses, place
from jobs.engines.snapshot.types import EdgeRecord, NodeKind, NodeRecord
from jobs.runtime.home import home_of
from jobs.stores.enrichment import enrichment_of
from jobs.stores.layouts import layout_for
from models.db import session_scope
from models.graph import Edge, Node, Snapshot
from models.public.drift import DriftEventPublic
from models.queries import baselines as baseline_queries
from models.queries import drift as drift_queries
from models.queries import graph as graph_queries
from models.queries import tenancy as tenancy_queries

SNAPSHOTS_LISTED = 200
EVENTS_PER_SNAPSHOT = 1000


def _node(row: Node) -> NodeRecord:
    kind: NodeKind = row.kind if row.kind in ("workload", "ip", "external") else "ip"  # type: ignore[assignment]
    return NodeRecord(row.key, row.name, kind, row.namespace, dict(row.labels or {}))


def _edge(row: Edge) -> EdgeRecord:
    return EdgeRecord(row.src, row.dst, row.dst_port, row.protocol, row.bytes, row.packets, row.flows,
                      row.rejected, row.first_seen, row.last_seen)


def snapshot_option(row: Snapshot) -> dict[str, str]:
    """A snapshot as the pickers list it."""
    return {"id": str(row.id), "label": f"{row.window_start:%Y-%m-%d %H:%M} UTC · {row.node_count:,} nodes, "
                                        f"{row.edge_count:,} edges"}


async def option_of(tenant_id: int, snapshot_id: int) -> dict[str, str]:
    """One of the tenant's ready snapshots as the pickers list it (NotFound otherwise), for a link to one
    older than the listed ones."""
    async with session_scope() as session:
        row = await graph_queries.get_snapshot(session, tenant_id=tenant_id, snapshot_id=snapshot_id)
    return snapshot_option(row)


async def home_networks(tenant_id: int) -> HomeNetworks:
    """What the tenant calls home (its settings: home networks, sensors, the private ranges)."""
    async with session_scope() as session:
        tenant = await tenancy_queries.get_tenant(session, tenant_id=tenant_id)
    return home_of(tenant)


async def placed(tenant_id: int, graphs: list[Graph], home: HomeNetworks) -> tuple[list[Graph], str]:
    """`graphs` with home and outside groups set and their outside addresses' stored enrichment (the answers ingest
    found, `jobs.stores.enrichment`), and a notice for the page when none of them has one (ingested without the
    offline tables: peers are then grouped as unknown networks)."""
    wanted = sorted({a for g in graphs for a in outside_addresses(g, home)})
    info: dict[str, Enrichment] = (
        await asyncio.to_thread(lambda: enrichment_of(tenant_id=tenant_id, addresses=wanted)) if wanted else {})
    notice = ("No AS or country data is stored for this snapshot's outside addresses (the flows were ingested "
              "without the enrichment tables): peers are grouped as unknown networks.") if wanted and not info else ""
    return [place(g, home, info) for g in graphs], notice


async def list_options(tenant_id: int) -> list[dict[str, str]]:
    """The tenant's ready snapshots, newest window first."""
    async with session_scope() as session:
        rows = await graph_queries.list_snapshots(session, tenant_id=tenant_id, limit=SNAPSHOTS_LISTED)
    return [snapshot_option(r) for r in rows]


async def load_graph(tenant_id: int, snapshot_id: int) -> tuple[Graph, list[dict[str, Any]]]:
    """One of the tenant's snapshots as an engine graph, and its drift events (public shape)."""
    async with session_scope() as session:
        nodes, edges = await graph_queries.snapshot_graph(session, tenant_id=tenant_id, snapshot_id=snapshot_id)
        events, _ = await drift_queries.list_events(session, tenant_id=tenant_id, snapshot_id=snapshot_id,
                                                    limit=EVENTS_PER_SNAPSHOT)
    graph = Graph.of((_node(n) for n in nodes), (_edge(e) for e in edges))
    return graph, [DriftEventPublic.of(e).model_dump() for e in events]


async def window_start_of(tenant_id: int, snapshot_id: int) -> datetime:
    """When the snapshot's window starts (NotFound for another tenant's or a missing snapshot)."""
    async with session_scope() as session:
        row = await graph_queries.get_snapshot(session, tenant_id=tenant_id, snapshot_id=snapshot_id)
    return row.window_start


async def load_baseline_graph(tenant_id: int, current: Graph, before: datetime) -> Graph:
    """The tenant's baseline before window `before` as a graph: its edges (mean volumes), with node
    identities taken from `current` where the node still exists."""
    async with session_scope() as session:
        edges = await baseline_queries.baseline_edges_before(session, tenant_id=tenant_id, before=before)
    records = [EdgeRecord(e["src"], e["dst"], e["dst_port"], e["protocol"], e["bytes"], 0, e["flows"], 0,
                          e["last_seen"] or before, e["last_seen"] or before) for e in edges]
    ends = {end for e in records for end in (e.src, e.dst)}
    return Graph.of((current.nodes[key] for key in ends if key in current.nodes), records)


def previous_of(options: list[dict[str, str]], snapshot_id: int) -> int | None:
    """The snapshot listed just before (older than) `snapshot_id`, whose layout seeds this one's."""
    ids = [int(o["id"]) for o in options]
    if snapshot_id not in ids:
        return None
    index = ids.index(snapshot_id)
    return ids[index + 1] if index + 1 < len(ids) else None


async def layout_of(tenant_id: int, snapshot_id: int, graph: Graph, previous_id: int | None) -> Layout:
    """The cached (or freshly computed) layout, off the event loop."""
    return await asyncio.to_thread(layout_for, tenant_id, snapshot_id, graph, previous_id)


def drift_keys(events: list[dict[str, Any]]) -> list[EdgeKey]:
    """The edges drift events point at."""
    return [(e["src"], e["dst"], e["dst_port"], e.get("protocol") or "") for e in events]
