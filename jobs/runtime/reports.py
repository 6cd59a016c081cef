"""Build a report of one tenant's period (issue 18 item 4) from the database and the stores; the engine
(`jobs.engines.report`) renders it. Used by `GET /api/v1/reports`, the Reports page and the scheduled digest.

The graph picture is the period's newest snapshot placed like the Graph page does (home and outside groups, stored
enrichment, the seeded layout), grouped above `PICTURE_GROUP_THRESHOLD` nodes. New external peers get their owner
(AS and organisation, country) from the enrichment stored at ingest, when there is one.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import urlencode

from jobs.engines.graph.layout import compute_layout
from jobs.engines.graph.model import Enrichment, Graph
from jobs.engines.graph.view import PAGE_GROUP_THRESHOLD, ViewOptions, build_view
from jobs.engines.graph.zones import outside_addresses, place
from jobs.engines.report.model import (
    Picture,
    PictureEdge,
    PictureNode,
    PolicyChange,
    ReportData,
    ReportIncident,
    ReportPeer,
)
from jobs.engines.snapshot.types import EdgeRecord, NodeKind, NodeRecord
from jobs.integrations.notify.notices import reasons_of
from jobs.runtime.home import home_of
from jobs.stores.enrichment import enrichment_of
from models.db import session_scope
from models.errors import Invalid
from models.graph import Snapshot
from models.incidents import Incident
from models.queries import graph as graph_queries
from models.queries import reports as report_queries
from models.queries import tenancy
from models.settings import get_settings
from models.tenancy import Tenant
from models.types import utcnow

TOP_INCIDENTS = 20
MAX_PEERS = 100
MAX_RANGE = timedelta(days=92)
PICTURE_GROUP_THRESHOLD = PAGE_GROUP_THRESHOLD
PICTURE_MAX_EDGES = 400


def check_period(start: datetime, end: datetime) -> None:
    """Invalid (a 422) unless `start` < `end`, both with a time zone, at most `MAX_RANGE` apart."""
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("from and to must carry a time zone (e.g. 2026-12-04T00:00:00Z)")
    if not start < end:
        raise Invalid("from must be before to")
    if end - start > MAX_RANGE:
        raise Invalid(f"a report covers at most {MAX_RANGE.days} days; this period has {(end - start).days}")


def report_url(start: datetime, end: datetime) -> str:
    """The Reports page for the period."""
    query = urlencode({"from": start.isoformat(), "to": end.isoformat()})
    return f"{get_settings().base_url.rstrip('/')}/reports?{query}"


def _incident(row: Incident, base_url: str) -> ReportIncident:
    latest = (row.totals or {}).get("latest") or {}
    return ReportIncident(
        id=int(row.id or 0), kind=row.kind, severity=row.severity, entity=row.entity, direction=row.direction,
        status=row.status, score=float(row.score), events=int(row.events), first_seen=row.first_seen,
        last_seen=row.last_seen, explanation=str(latest.get("explanation") or row.summary),
        reasons=reasons_of(row), namespaces=tuple(row.namespaces or ()),
        url=f"{base_url.rstrip('/')}/drift?incident={row.id}",
    )


async def _picture(tenant: Tenant, snapshot: Snapshot) -> Picture:
    async with session_scope() as session:
        nodes, edges = await graph_queries.snapshot_graph(session, tenant_id=int(tenant.id or 0),
                                                          snapshot_id=int(snapshot.id or 0))
    records = [NodeRecord(n.key, n.name, cast(NodeKind, n.kind if n.kind in ("workload", "ip", "external") else "ip"),
                          n.namespace, dict(n.labels or {})) for n in nodes]
    links = [EdgeRecord(e.src, e.dst, e.dst_port, e.protocol, e.bytes, e.packets, e.flows, e.rejected, e.first_seen,
                        e.last_seen) for e in edges]
    graph, home = Graph.of(records, links), home_of(tenant)
    wanted = outside_addresses(graph, home)
    info: dict[str, Enrichment] = (
        await asyncio.to_thread(lambda: enrichment_of(tenant_id=int(tenant.id or 0), addresses=wanted))
        if wanted else {})
    graph = place(graph, home, info)
    view = build_view(graph, compute_layout(graph),
                      ViewOptions(threshold=PICTURE_GROUP_THRESHOLD, max_edges=PICTURE_MAX_EDGES))
    return Picture(
        snapshot_id=int(snapshot.id or 0), window_start=snapshot.window_start,
        nodes=tuple(PictureNode(n.key, n.label, "group" if n.count > 1 else n.kind, n.x, n.y, n.count)
                    for n in view.nodes),
        edges=tuple(PictureEdge(e.src, e.dst, e.flows, "drift" if e.style == "drift" else "normal")
                    for e in view.edges),
        total_nodes=len(graph.nodes), total_edges=len(graph.edges),
    )


def _peers(tenant_id: int, rows: list[report_queries.PeerRow]) -> tuple[ReportPeer, ...]:
    shown = rows[:MAX_PEERS]
    owners = enrichment_of(tenant_id=tenant_id, addresses=[r.address for r in shown]) if shown else {}
    return tuple(ReportPeer(r.address, r.first_seen, r.events, r.sources, *_owner(owners.get(r.address)))
                 for r in shown)


def _owner(found: Enrichment | None) -> tuple[int | None, str, str]:
    if found is None:
        return None, "", ""
    asn, org, country = found
    return asn, org or "", country or ""


async def build_report(*, tenant_id: int, start: datetime, end: datetime) -> ReportData:
    """The tenant's report of [start, end) (Invalid for a bad period)."""
    check_period(start, end)
    base = get_settings().base_url
    async with session_scope() as session:
        tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
        counts = await report_queries.period_counts(session, tenant_id=tenant_id, start=start, end=end)
        incidents = await report_queries.period_incidents(session, tenant_id=tenant_id, start=start, end=end,
                                                          limit=TOP_INCIDENTS)
        peer_rows = await report_queries.new_external_peers(session, tenant_id=tenant_id, start=start, end=end)
        policies = await report_queries.policy_changes(session, tenant_id=tenant_id, start=start, end=end)
        snapshot = await report_queries.newest_snapshot(session, tenant_id=tenant_id, start=start, end=end)
    peers = await asyncio.to_thread(_peers, tenant_id, peer_rows)
    return ReportData(
        tenant=tenant.name, start=start, end=end, generated_at=utcnow(), snapshots=counts.snapshots,
        events=counts.events, incident_total=counts.incidents, severity_counts=counts.by_severity,
        kind_counts=counts.by_kind, incidents=tuple(_incident(i, base) for i in incidents), peers=peers,
        peer_total=len(peer_rows),
        policies=tuple(PolicyChange(int(r.policy.id or 0), r.policy.namespace, r.policy.name, r.policy.status, r.at,
                                    r.by) for r in policies),
        picture=None if snapshot is None else await _picture(tenant, snapshot),
        url=report_url(start, end),
    )
