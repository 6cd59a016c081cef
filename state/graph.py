"""The Graph page: a snapshot's service map, filters, node details, snapshot diff, live offers.

Graphs, layouts and drift events stay in backend-only vars; the browser gets the figure of the current
view, the pickers' options and the details of the node it clicked.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
import reflex as rx
from reflex_base.event import EventSpec

from jobs.engines.graph.details import node_details
from jobs.engines.graph.diff import GraphDiff, classify, union
from jobs.engines.graph.figure import view_figure
from jobs.engines.graph.filters import BadFilter, GraphFilter, apply_filter, namespaces, protocols, search
from jobs.engines.graph.layout import Layout, compute_layout
from jobs.engines.graph.model import Graph, graph_json
from jobs.engines.graph.view import ViewOptions, build_view
from models.errors import NotFound
from state import graph_data
from state.base import AppState, guarded
from state.live import listens_to

BASELINE = "baseline"
FILTER_NAMES = ("namespace", "port", "protocol", "kind", "external_only", "min_bytes", "text")


class GraphDetailState(AppState):
    """The clicked node's panel."""

    detail: dict[str, str] = {}
    detail_labels: list[str] = []
    outgoing: list[dict[str, str]] = []
    incoming: list[dict[str, str]] = []
    events: list[dict[str, str]] = []

    def _show(self, found: dict[str, Any] | None) -> None:
        found = found or {}
        self.detail = {k: str(v) for k, v in found.items() if isinstance(v, str)}
        self.detail_labels = list(found.get("labels", []))
        self.outgoing, self.incoming = list(found.get("outgoing", [])), list(found.get("incoming", []))
        self.events = list(found.get("events", []))

    @rx.event
    @guarded("viewer")
    def close(self) -> None:
        """Hide the panel."""
        self._show(None)


@listens_to("snapshot.built")
class GraphState(AppState):
    snapshots: list[dict[str, str]] = []
    snapshot_id: str = ""
    compare_id: str = ""
    filters: dict[str, str] = {name: "" for name in FILTER_NAMES}
    namespace_options: list[str] = []
    protocol_options: list[str] = []
    figure: go.Figure = go.Figure()
    counts: dict[str, str] = {}
    matches: list[str] = []
    message: str = ""
    grouped: bool = False
    live_offer: dict[str, str] = {}
    _graph: Graph | None = None
    _base: Graph | None = None
    _layout: Layout | None = None
    _diff: GraphDiff | None = None
    _events: list[dict[str, Any]] = []
    _keys: list[list[str]] = []
    _expanded: list[str] = []
    _selected: str = ""

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """on_load: the snapshot list and the latest snapshot (or the one already open)."""
        tenant_id = self._tenant_id
        self.snapshots = await graph_data.list_options(tenant_id)
        ids = [s["id"] for s in self.snapshots]
        if not ids:
            self.figure, self._graph = go.Figure(), None
            self.message = "No snapshots yet: upload flows on the Sources page."
            return
        if self.snapshot_id not in ids:
            self.snapshot_id, self._expanded, self._selected = ids[0], [], ""
        if self.compare_id not in (*ids, BASELINE):
            self.compare_id = ""
        await self._open(tenant_id)

    async def _open(self, tenant_id: int) -> None:
        current = int(self.snapshot_id)
        try:
            graph, self._events = await graph_data.load_graph(tenant_id, current)
        except NotFound as exc:
            self.message = exc.message
            return
        notice = ""
        try:
            self._base = await self._load_base(tenant_id, graph)
        except NotFound as exc:
            self._base, self.compare_id, notice = None, "", exc.message
        self._graph = graph
        layout = await graph_data.layout_of(tenant_id, current, graph, graph_data.previous_of(self.snapshots, current))
        if self._base is not None:
            self._diff = classify(self._base, graph, graph_data.drift_keys(self._events))
            self._layout = compute_layout(union(self._base, graph), layout)
        else:
            self._diff, self._layout = None, layout
        self.namespace_options, self.protocol_options = namespaces(graph), protocols(graph)
        self.live_offer = {}
        self._redraw()
        self.message = notice or self.message
        await self._refresh_details()

    async def _load_base(self, tenant_id: int, graph: Graph) -> Graph | None:
        """The diff base: another snapshot, the baseline (latest snapshot only), or none."""
        if self.compare_id != BASELINE:
            return (await graph_data.load_graph(tenant_id, int(self.compare_id)))[0] if self.compare_id else None
        if not self.snapshots or self.snapshot_id != self.snapshots[0]["id"]:
            raise NotFound("The baseline diff compares the latest snapshot: open the latest one first.")
        window_start = await graph_data.window_start_of(tenant_id, int(self.snapshot_id))
        base = await graph_data.load_baseline_graph(tenant_id, graph, window_start)
        if not base.edges:
            raise NotFound("No baseline yet: it holds the windows before the latest one, and there are none.")
        return base

    def _shown_graph(self) -> Graph | None:
        if self._graph is None:
            return None
        return union(self._base, self._graph) if self._base is not None else self._graph

    def _redraw(self) -> None:
        source = self._shown_graph()
        if source is None or self._layout is None:
            return
        try:
            chosen = GraphFilter.parse(self.filters)
        except BadFilter as exc:
            self.message = str(exc)
            return
        shown = apply_filter(source, chosen)
        found = search(shown, chosen.text)
        view = build_view(shown, self._layout, ViewOptions(frozenset(self._expanded), self._diff, found))
        self.figure, self._keys = view_figure(view, revision=f"{self.snapshot_id}-{self.compare_id}")
        self.matches, self.grouped = list(found), view.grouped
        self.counts = {k: f"{v:,}" for k, v in view.counts.items()}
        if view.truncated:
            self.counts["hidden lines"] = f"{view.truncated:,}"
        self.message = ""

    async def _refresh_details(self) -> None:
        detail = await self.get_state(GraphDetailState)
        source = self._shown_graph()
        detail._show(node_details(source, self._selected, self._events)
                     if source is not None and self._selected in source.nodes else None)

    @rx.event
    @guarded("viewer")
    async def pick_snapshot(self, value: str) -> None:
        """Open another snapshot; filters, opened groups and the selected node stay."""
        if value not in [s["id"] for s in self.snapshots]:
            return
        self.snapshot_id = value
        await self._open(self._tenant_id)

    @rx.event
    @guarded("viewer")
    async def pick_compare(self, value: str) -> None:
        """Overlay the diff from snapshot `value` (the base) to the open one; '' turns it off."""
        if value and value != BASELINE and value not in [s["id"] for s in self.snapshots]:
            return
        self.compare_id = value
        await self._open(self._tenant_id)

    @rx.event
    @guarded("viewer")
    def set_filter(self, name: str, value: str | bool) -> None:
        """Change one filter and redraw, without a reload."""
        if name in FILTER_NAMES:
            self.filters = {**self.filters, name: str(value).lower() if isinstance(value, bool) else str(value)}
            self._redraw()

    @rx.event
    @guarded("viewer")
    def clear_filters(self) -> None:
        """Back to the whole graph, groups closed."""
        self.filters, self._expanded = {name: "" for name in FILTER_NAMES}, []
        self._redraw()

    @rx.event
    @guarded("viewer")
    async def click(self, points: list[dict[str, Any]]) -> None:
        """A click on a node opens its details; on a group, opens the group."""
        if not points:
            return
        try:
            key = self._keys[int(points[0]["curveNumber"])][int(points[0]["pointNumber"])]
        except (IndexError, KeyError, TypeError, ValueError):
            return
        await self._select(key)

    @rx.event
    @guarded("viewer")
    async def select(self, key: str) -> None:
        """Select a node from the search matches."""
        await self._select(key)

    async def _select(self, key: str) -> None:
        source = self._shown_graph()
        if source is None:
            return
        if key not in source.nodes:
            self._expanded = sorted({*self._expanded, key})
            self._redraw()
            return
        self._selected = key
        await self._refresh_details()

    @rx.event
    @guarded("viewer")
    def download_json(self) -> EventSpec | None:
        """The open snapshot's graph in the REST endpoint's shape."""
        if self._graph is None:
            return None
        return rx.download(data=json.dumps(graph_json(self._graph)), filename=f"snapshot-{self.snapshot_id}-graph.json",
                           mime_type="application/json")

    @rx.event
    @guarded("viewer")
    async def show_offer(self) -> None:
        """Open the snapshot the live notice offers, keeping filters and selection."""
        tenant_id = self._tenant_id
        offered = self.live_offer.get("id", "")
        self.snapshots = await graph_data.list_options(tenant_id)
        if offered in [s["id"] for s in self.snapshots]:
            self.snapshot_id = offered
            await self._open(tenant_id)
        self.live_offer = {}

    def _on_live_event(self, event: dict[str, Any]) -> None:
        """A new or rebuilt snapshot is offered, not forced: the analyst may be reading this one."""
        data = event.get("data", {})
        if data.get("id") is not None:
            window = str(data.get("window_start", ""))[:16].replace("T", " ")
            self.live_offer = {"id": str(data["id"]), "window": f"{window} UTC"}
