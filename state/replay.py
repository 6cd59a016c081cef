"""The Replay page: a past period window by window from the stored snapshots (no re-ingestion).

Loading a period fetches once what every frame needs (the windows, one layout for all their nodes, the drift and
incident counts, the policy history) into backend-only vars; a step then loads one snapshot's graph, evaluates the
policies in force at its end against it and sends the browser the two figures and a few counts.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any, cast

import plotly.graph_objects as go
import reflex as rx
from reflex_base.event import EventSpec

from jobs.engines.graph.figure import view_figure
from jobs.engines.graph.layout import Layout
from jobs.engines.graph.model import EdgeKey, Graph
from jobs.engines.replay.frames import (
    Window,
    WindowCounts,
    blocked_flows,
    frame_view,
    period_layout,
    timeline_figure,
    window_counts,
)
from jobs.engines.replay.history import PolicyHistory, PolicyVersion, StatusChange, parse_manifest
from jobs.engines.replay.period import (
    SPEEDS,
    BadPeriod,
    Period,
    choose_period,
    frame_from,
    parse_moment,
    share_query,
)
from jobs.engines.snapshot.types import NodeKind, NodeRecord
from models.db import session_scope
from models.errors import Invalid, NotFound
from models.queries import replay as replay_queries
from state import graph_data
from state.base import AppState, guarded

ALL_SOURCES = "all"
BLOCKED_LISTED = 8
# Drop the oldest cached graph past this many: a step back or forward reuses its neighbour.
GRAPHS_KEPT = 3
KEYS_SCRIPT = """
if (!window.__sgReplayKeys) { window.__sgReplayKeys = true;
  document.addEventListener('keydown', (e) => {
    if (!location.pathname.startsWith('/replay') || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target || {}; const tag = t.tagName || '';
    if (['INPUT', 'TEXTAREA', 'SELECT'].includes(tag) || t.isContentEditable) return;
    if (t.getAttribute && t.getAttribute('role') === 'slider') return;
    const id = {' ': 'replay-play', 'ArrowRight': 'replay-next', 'ArrowLeft': 'replay-prev'}[e.key];
    const button = id && document.getElementById(id);
    if (!button || button.disabled) return;
    /* a focused button would take space as its own click: here the key belongs to the player */
    e.preventDefault(); if (tag === 'BUTTON') t.blur(); button.click();
  });
}
"""


def _moment(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def _plural(count: int, one: str, many: str = "") -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _blocked_row(edge: Any) -> dict[str, str]:
    port = f":{edge.dst_port}" if edge.dst_port is not None else ""
    return {
        "edge": f"{edge.src} → {edge.dst}{port}/{edge.protocol.lower()}",
        "flows": f"{edge.flows:,}",
        "bytes": f"{edge.bytes:,}",
        "refused": f"{edge.side}: {', '.join(edge.policies)}",
    }


async def _period_data(tenant_id: int, period: Period, source: str | None) -> dict[str, Any]:
    """Everything the frames of the period share, from one database session."""
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
    windows = [Window(r.id or 0, r.window_start, r.window_end) for r in rows]
    records = [
        NodeRecord(k, n, cast(NodeKind, kind if kind in ("workload", "ip", "external") else "ip"), ns)
        for k, n, kind, ns in nodes
    ]
    parsed, unreadable = [], 0
    for v in versions:
        try:
            parsed.append(PolicyVersion(v.id or 0, v.namespace, v.name, v.version, parse_manifest(v.yaml)))
        except ValueError:
            unreadable += 1
    return {
        "windows": windows,
        "layout": await asyncio.to_thread(period_layout, records, pairs),
        "counts": window_counts(windows, events, spans),
        "unreadable": unreadable,
        "history": PolicyHistory(parsed, [StatusChange(pid, at, status) for pid, at, status in changes]),
    }


class ReplayState(AppState):
    period_from: str = ""
    period_to: str = ""
    source: str = ALL_SOURCES
    sources: list[str] = []
    frame: int = 0
    frame_count: int = 0
    frame_label: str = ""
    figure: go.Figure = go.Figure()
    timeline: go.Figure = go.Figure()
    counts: dict[str, str] = {}
    policies_note: str = ""
    blocked: list[dict[str, str]] = []
    playing: bool = False
    speed: str = "1"
    message: str = ""
    _windows: list[Window] = []
    _counts: list[WindowCounts] = []
    _layout: Layout | None = None
    _history: PolicyHistory | None = None
    _unreadable: int = 0
    _graphs: dict[int, tuple[Graph, list[EdgeKey]]] = {}

    def _period(self) -> Period:
        return Period(parse_moment(self.period_from, "From"), parse_moment(self.period_to, "To"))

    def _share(self) -> EventSpec:
        """The address bar follows the frame, without loading the page again."""
        query = share_query(self._period(), self.frame, "" if self.source == ALL_SOURCES else self.source)
        return rx.call_script(f"window.history.replaceState(null, '', '/replay' + {json.dumps(query)})")

    async def _open_period(self, start_text: str, end_text: str, source: str, frame_text: str) -> bool:
        """Load the period's shared data; False (with the reason in `message`) when it cannot be shown."""
        tenant_id = self._tenant_id
        async with session_scope() as session:
            self.sources = await replay_queries.snapshot_sources(session, tenant_id=tenant_id)
            span = await replay_queries.snapshot_span(session, tenant_id=tenant_id)
        self.playing, self._graphs = False, {}
        if span is None:
            self.frame = self.frame_count = 0
            self.message = "No snapshots yet: upload flows on the Sources page, then replay their windows here."
            return False
        self.source = source if source in self.sources else ALL_SOURCES
        try:
            period = choose_period(start_text, end_text, span[1], span[0])
            data = await _period_data(tenant_id, period, None if self.source == ALL_SOURCES else self.source)
        except (BadPeriod, Invalid) as exc:
            self.message = str(exc) if isinstance(exc, BadPeriod) else exc.message
            return False
        self.period_from, self.period_to = (f"{moment:%Y-%m-%d %H:%M}" for moment in (period.start, period.end))
        self._windows, self._counts, self._layout = data["windows"], data["counts"], data["layout"]
        self._history, self._unreadable = data["history"], data["unreadable"]
        self.frame_count = len(self._windows)
        self.message = (
            ""
            if self._windows
            else (
                f"No snapshot window in this period: the stored windows run from {_moment(span[0])} to "
                f"{_moment(span[1])}."
            )
        )
        await self._show(frame_from(frame_text, self.frame_count))
        return True

    async def _graph_of(self, window: Window) -> tuple[Graph, list[EdgeKey]]:
        if window.snapshot_id not in self._graphs:
            graph, events = await graph_data.load_graph(self._tenant_id, window.snapshot_id)
            kept = dict(list(self._graphs.items())[-(GRAPHS_KEPT - 1) :])
            self._graphs = {**kept, window.snapshot_id: (graph, graph_data.drift_keys(events))}
        return self._graphs[window.snapshot_id]

    async def _show(self, frame: int) -> None:
        """Draw frame `frame` (1-based; 0 clears)."""
        self.frame = frame
        if frame == 0 or self._layout is None or self._history is None:
            self.figure, self.timeline, self.counts, self.blocked = go.Figure(), go.Figure(), {}, []
            self.frame_label = self.policies_note = ""
            return
        window = self._windows[frame - 1]
        try:
            graph, drift = await self._graph_of(window)
            previous = (await self._graph_of(self._windows[frame - 2]))[0] if frame > 1 else None
        except NotFound as exc:
            self.message = exc.message
            return
        view = frame_view(graph, previous, self._layout, drift)
        self.figure, _ = view_figure(view, revision="replay")
        self.timeline = timeline_figure(self._windows, self._counts, frame - 1)
        end = f"{window.end:%H:%M}" if window.end.date() == window.start.date() else f"{window.end:%Y-%m-%d %H:%M}"
        self.frame_label = f"{window.start:%Y-%m-%d %H:%M} – {end} UTC"
        self._count(frame - 1, view.counts)
        self._judge(window, graph)

    def _count(self, index: int, view_counts: dict[str, int]) -> None:
        counted = self._counts[index]
        found = {
            "drift events": counted.total_events,
            **{k: v for k, v in counted.events.items() if v},
            "active incidents": counted.incidents_active,
            "new incidents": counted.incidents_new,
            "nodes": view_counts.get("nodes", 0),
            "edges": view_counts.get("edges", 0),
        }
        if index:
            found |= {
                "added edges": view_counts.get("added edges", 0),
                "removed edges": view_counts.get("removed edges", 0),
            }
        self.counts = {k: f"{v:,}" for k, v in found.items()}

    def _judge(self, window: Window, graph: Graph) -> None:
        assert self._history is not None
        policies = self._history.in_force_at(window.end)
        blocked = blocked_flows(policies, graph)
        self.blocked = [_blocked_row(b) for b in blocked[:BLOCKED_LISTED]]
        unread = (
            f" ({self._unreadable} stored policy version(s) could not be read and are left out)"
            if self._unreadable
            else ""
        )
        if not policies:
            self.policies_note = f"No policy was approved by {_moment(window.end)}: nothing would be blocked.{unread}"
            return
        flows = sum(b.flows for b in blocked)
        names = ", ".join(p.label for p in policies[:3]) + (" …" if len(policies) > 3 else "")
        self.policies_note = (
            f"{_plural(flows, 'flow')} ({_plural(len(blocked), 'edge')}) of this window would be blocked by the "
            f"{_plural(len(policies), 'policy', 'policies')} approved at {_moment(window.end)} ({names}){unread}."
        )

    @rx.event
    @guarded("viewer")
    async def load(self) -> list[EventSpec] | None:
        """on_load: the period, source and frame from the URL; defaults: the 7 days up to the newest window."""
        params = self.router.url.query_parameters
        shown = await self._open_period(
            params.get("from", ""), params.get("to", ""), params.get("source", ""), params.get("frame", "")
        )
        return [rx.call_script(KEYS_SCRIPT), self._share()] if shown else [rx.call_script(KEYS_SCRIPT)]

    @rx.event
    @guarded("viewer")
    async def apply_period(self, form: dict[str, Any]) -> EventSpec | None:
        """The period form: open its first frame."""
        shown = await self._open_period(
            str(form.get("from", "")), str(form.get("to", "")), str(form.get("source", ALL_SOURCES)), "1"
        )
        return self._share() if shown else None

    @rx.event
    @guarded("viewer")
    async def step(self, delta: int) -> EventSpec | None:
        """One frame back (-1) or forward (+1); pauses playback."""
        self.playing = False
        return await self._go(self.frame + delta)

    @rx.event
    @guarded("viewer")
    async def go_to(self, value: list[float]) -> EventSpec | None:
        """The slider let go at a frame."""
        self.playing = False
        return await self._go(int(value[0]) if value else self.frame)

    async def _go(self, frame: int) -> EventSpec | None:
        target = min(max(frame, 1), self.frame_count)
        if not self.frame_count or target == self.frame:
            return None
        await self._show(target)
        return self._share()

    @rx.event
    @guarded("viewer")
    async def toggle_play(self) -> EventSpec | None:
        """Play from the current frame (from the first when at the end), or pause."""
        if self.playing or not self.frame_count:
            self.playing = False
            return None
        self.playing = True
        return await self._go(1) if self.frame >= self.frame_count else None

    @rx.event
    @guarded("viewer")
    async def tick(self, _: str = "") -> EventSpec | None:
        """The player's clock: the next frame; playback stops at the last."""
        if not self.playing:
            return None
        if self.frame >= self.frame_count:
            self.playing = False
            return None
        return await self._go(self.frame + 1)

    @rx.event
    @guarded("viewer")
    def set_speed(self, value: str) -> None:
        """Frames per second: 1×, 2×, 4×, 8×."""
        if value in {str(s) for s in SPEEDS}:
            self.speed = value

    @rx.var
    def interval_ms(self) -> int:
        """Milliseconds between frames at the chosen speed."""
        return 1000 // max(int(self.speed or "1"), 1)
