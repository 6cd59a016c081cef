"""The Replay page's periods and frames, computed once per process and reused by every step and every tab.

Opening a period reads what all its frames share (windows, counts, policy history, one layout for every node,
placed as the Graph page places: home networks and sensors in the centre); once a frame is shown, the frames around
it warm in the background (WARM_AHEAD after it, WARM_BEHIND before): the windows' graphs a chunk of windows per
query, each frame drawn once (the graph and timeline figures as JSON without the 7 KB plotly template, which the page
sets once, the counts and the policies' verdict). A step then takes a ready frame from the cache and moves the
warm-up's aim; a frame not warmed yet (a jump with the slider) is drawn at once.

A period is cached under (tenant, start, end, source) with a stamp of what it depends on (`period_stamp`: its
snapshots, the tenant's newest drift event, incident and policy review); opening it again with another stamp
builds it anew. At most PERIODS_KEPT periods stay; a step on a period not cached here (another worker, or
evicted) builds it again from the state's period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, cast

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.graph.layout import Layout, compute_layout
from jobs.engines.graph.model import EdgeKey, Enrichment, Graph
from jobs.engines.graph.zones import outside_addresses, place
from jobs.engines.replay import drawing
from jobs.engines.replay.frames import (
    Window,
    WindowCounts,
    period_graph,
    window_counts,
)
from jobs.engines.replay.history import PolicyHistory, PolicyVersion, StatusChange, parse_manifest
from jobs.engines.replay.period import Period
from jobs.engines.snapshot.types import EdgeRecord, NodeKind, NodeRecord
from jobs.stores.enrichment import enrichment_of
from models.db import session_scope
from models.graph import Edge, Node
from models.queries import replay as replay_queries
from state import graph_data

PERIODS_KEPT: Final = 3
WARM_CHUNK: Final = 8  # windows loaded per query while warming: each load holds the event loop a few ms
WARM_AHEAD: Final = 16  # frames drawn ahead of the one shown (16 s of playing at 1×, 2 s at 8×)
WARM_BEHIND: Final = 2
LOG = logging.getLogger(__name__)
BLOCKED_LISTED: Final = 8
_KINDS: Final = ("workload", "ip", "external")


@dataclass(slots=True)
class PeriodData:
    """A period's shared data, its placed graphs by snapshot and its drawn frames by index (0-based)."""

    stamp: str
    windows: list[Window]
    counts: list[WindowCounts]
    layout: Layout
    history: PolicyHistory
    unreadable: int
    home: HomeNetworks
    info: Mapping[str, Enrichment]
    graphs: dict[int, tuple[Graph, list[EdgeKey]]] = field(default_factory=dict)
    frames: dict[int, drawing.Frame] = field(default_factory=dict)
    warming: asyncio.Task[None] | None = None
    aim: int = 0  # the frame the warm-up draws around (the one shown last)
    seconds: dict[str, float] = field(default_factory=dict)

    def drawing(self) -> drawing.Period:
        return drawing.Period(self.windows, self.counts, self.layout, self.history, self.unreadable)


_PERIODS: OrderedDict[tuple[int, datetime, datetime, str | None], PeriodData] = OrderedDict()


def _node(key: str, name: str, kind: str, namespace: str | None, labels: Mapping[str, str] | None = None) -> NodeRecord:
    return NodeRecord(key, name, cast(NodeKind, kind if kind in _KINDS else "ip"), namespace, dict(labels or {}))


def _edge(row: Edge) -> EdgeRecord:
    return EdgeRecord(
        row.src,
        row.dst,
        row.dst_port,
        row.protocol,
        row.bytes,
        row.packets,
        row.flows,
        row.rejected,
        row.first_seen,
        row.last_seen,
    )


def cached(tenant_id: int, period: Period, source: str | None) -> PeriodData | None:
    """The period as this process holds it, if it does."""
    return _PERIODS.get((tenant_id, period.start, period.end, source))


async def open_period(tenant_id: int, period: Period, source: str | None) -> PeriodData:
    """The period (cached unless what it depends on changed since), its frames warming in the background."""
    key = (tenant_id, period.start, period.end, source)
    async with session_scope() as session:
        stamp = await replay_queries.period_stamp(session, tenant_id=tenant_id, start=period.start, end=period.end)
    held = _PERIODS.get(key)
    if held is not None and held.stamp == stamp:
        _PERIODS.move_to_end(key)
        return held
    data = await _build(tenant_id, period, source, stamp)
    if held is not None and held.warming is not None:
        held.warming.cancel()
    _PERIODS[key] = data
    while len(_PERIODS) > PERIODS_KEPT:
        _, gone = _PERIODS.popitem(last=False)
        if gone.warming is not None:
            gone.warming.cancel()
    return data


def warm(tenant_id: int, data: PeriodData, at: int) -> None:
    """Have the frames around frame `at` (0-based) drawn in the background: WARM_AHEAD after it, WARM_BEHIND
    before it. One task per period draws them; a later call moves its aim."""
    data.aim = at
    if data.warming is None or data.warming.done():
        data.warming = asyncio.create_task(_warm(tenant_id, data))
        data.warming.add_done_callback(_report)


def _report(task: asyncio.Task[None]) -> None:
    """A warm-up that failed leaves its frames to be drawn on demand (where the failure then shows); logged."""
    if not task.cancelled() and task.exception() is not None:
        LOG.warning("replay warm-up failed: %s", task.exception())


async def _build(tenant_id: int, period: Period, source: str | None, stamp: str) -> PeriodData:
    started = time.perf_counter()
    async with session_scope() as session:
        rows = await replay_queries.period_snapshots(
            session, tenant_id=tenant_id, start=period.start, end=period.end, source=source
        )
        ids = [r.id or 0 for r in rows]
        nodes = await replay_queries.period_nodes(session, tenant_id=tenant_id, snapshot_ids=ids)
        pairs = await replay_queries.period_pairs(session, tenant_id=tenant_id, snapshot_ids=ids)
        events = await replay_queries.event_counts(session, tenant_id=tenant_id, snapshot_ids=ids)
        spans = await replay_queries.incident_spans(session, tenant_id=tenant_id, start=period.start, end=period.end)
        versions = await replay_queries.policy_versions(session, tenant_id=tenant_id)
        changes = await replay_queries.policy_changes(
            session, tenant_id=tenant_id, policy_ids=[v.id or 0 for v in versions]
        )
    home = await graph_data.home_networks(tenant_id)
    windows = [Window(r.id or 0, r.window_start, r.window_end) for r in rows]
    parsed, unreadable = [], 0
    for v in versions:
        try:
            parsed.append(
                PolicyVersion(v.id or 0, v.namespace, v.name, v.version, parse_manifest(v.yaml), cluster=v.cluster)
            )
        except ValueError:
            unreadable += 1
    records = [_node(*n) for n in nodes]

    def shared() -> tuple[Layout, dict[str, Enrichment]]:
        whole = period_graph(records, pairs)
        wanted = outside_addresses(whole, home)
        info = enrichment_of(tenant_id=tenant_id, addresses=wanted) if wanted else {}
        return compute_layout(place(whole, home, info)), info

    layout, info = await asyncio.to_thread(shared)
    return PeriodData(
        stamp=stamp,
        windows=windows,
        counts=window_counts(windows, events, spans),
        layout=layout,
        history=PolicyHistory(parsed, [StatusChange(pid, at, status) for pid, at, status in changes]),
        unreadable=unreadable,
        home=home,
        info=info,
        seconds={"open": round(time.perf_counter() - started, 3)},
    )


async def _load(tenant_id: int, data: PeriodData, wanted: list[int]) -> None:
    """These windows' graphs (placed) and the edges their drift events mark, in three queries."""
    ids = [sid for sid in dict.fromkeys(wanted) if sid not in data.graphs]
    if not ids:
        return
    async with session_scope() as session:
        nodes, edges = await replay_queries.period_graphs(session, tenant_id=tenant_id, snapshot_ids=ids)
        marked = await replay_queries.period_event_edges(session, tenant_id=tenant_id, snapshot_ids=ids)

    def build() -> dict[int, tuple[Graph, list[EdgeKey]]]:
        by_nodes: dict[int, list[Node]] = {}
        by_edges: dict[int, list[Edge]] = {}
        by_marks: dict[int, list[EdgeKey]] = {}
        for n in nodes:
            by_nodes.setdefault(n.snapshot_id, []).append(n)
        for e in edges:
            by_edges.setdefault(e.snapshot_id, []).append(e)
        for sid, src, dst, port, proto in marked:
            by_marks.setdefault(sid, []).append((src, dst, port, proto))
        found = {}
        for sid in ids:
            graph = Graph.of(
                (_node(n.key, n.name, n.kind, n.namespace, n.labels) for n in by_nodes.get(sid, ())),
                (_edge(e) for e in by_edges.get(sid, ())),
            )
            found[sid] = (place(graph, data.home, data.info), by_marks.get(sid, []))
        return found

    data.graphs.update(await asyncio.to_thread(build))


async def _graph(tenant_id: int, data: PeriodData, window: Window) -> tuple[Graph, list[EdgeKey]]:
    if window.snapshot_id not in data.graphs:
        graph, events = await graph_data.load_graph(tenant_id, window.snapshot_id)
        data.graphs[window.snapshot_id] = (place(graph, data.home, data.info), graph_data.drift_keys(events))
    return data.graphs[window.snapshot_id]


async def frame(tenant_id: int, data: PeriodData, index: int) -> drawing.Frame:
    """Frame `index` (0-based) of the period: cached, or drawn now (NotFound when a snapshot went away)."""
    if index not in data.frames:
        current = await _graph(tenant_id, data, data.windows[index])
        previous = (await _graph(tenant_id, data, data.windows[index - 1]))[0] if index else None
        data.frames[index] = await asyncio.to_thread(drawing.draw_frame, data.drawing(), index, current, previous)
    return data.frames[index]


def _wanted(data: PeriodData) -> list[int]:
    """The frames around the aim not drawn yet, nearest after it first."""
    last = len(data.windows) - 1
    ahead = range(data.aim + 1, min(data.aim + WARM_AHEAD, last) + 1)
    behind = range(data.aim - 1, max(data.aim - WARM_BEHIND, 0) - 1, -1)
    return [i for i in (*ahead, *behind) if i not in data.frames]


async def _warm(tenant_id: int, data: PeriodData) -> None:
    """Draw the frames around the aim until none is missing there, the windows' graphs loaded a chunk per query,
    yielding to the page's events between frames (a step never waits behind more than one frame's drawing). The
    aim moves with the steps: the warm-up follows a player without drawing all of a long period at once."""
    started = time.perf_counter()
    with contextlib.suppress(asyncio.CancelledError):
        while wanted := _wanted(data):
            chunk = wanted[:WARM_CHUNK]
            await _load(tenant_id, data, [data.windows[j].snapshot_id for i in chunk for j in (i - 1, i) if j >= 0])
            for index in chunk:
                await asyncio.sleep(0)
                if index not in data.frames:
                    await frame(tenant_id, data, index)
        data.seconds["warm"] = round(time.perf_counter() - started, 3)
