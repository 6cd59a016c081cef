"""The Graph page: a snapshot's service map (home in the centre, outside peers grouped by AS and country),
filters, node details, snapshot diff, a shareable URL and live offers.

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
from jobs.engines.graph.diff import GraphDiff, changes_only, classify, union
from jobs.engines.graph.figure import view_figure
from jobs.engines.graph.filters import (
    BadFilter,
    GraphFilter,
    apply_filter,
    autonomous_systems,
    clusters,
    countries,
    namespaces,
    protocols,
    search,
)
from jobs.engines.graph.layout import Layout, compute_layout
from jobs.engines.graph.model import Graph, graph_json
from jobs.engines.graph.view import PAGE_GROUP_THRESHOLD, ViewOptions, build_view
from models.errors import NotFound
from state import graph_data
from state.base import AppState, guarded
from state.graph_detail import GraphDetailState
from state.graph_url import FILTER_NAMES, filters_from, replace_url, share_query
from state.live import listens_to

BASELINE = "baseline"
__all__ = ["BASELINE", "FILTER_NAMES", "GraphDetailState", "GraphState"]


@listens_to("snapshot.built")
class GraphState(AppState):
    snapshots: list[dict[str, str]] = []
    snapshot_id: str = ""
    compare_id: str = ""
    filters: dict[str, str] = {name: "" for name in FILTER_NAMES}
    namespace_options: list[str] = []
    # the clusters of the open snapshot's workloads; the page offers the cluster filter when there are several
    cluster_options: list[str] = []
    protocol_options: list[str] = []
    peer_options: dict[str, list[dict[str, str]]] = {"country": [], "asn": []}
    figure: go.Figure = go.Figure()
    counts: dict[str, str] = {}
    matches: list[str] = []
    message: str = ""
    not_found: str = ""
    grouped: bool = False
    show_all: bool = False
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
    async def load(self) -> EventSpec | None:
        """on_load: the snapshot list and the snapshot the URL names (else the one open, else the latest)."""
        tenant_id = self._tenant_id
        params = dict(self.router.url.query_parameters)
        self.snapshots, self.not_found = await graph_data.list_options(tenant_id), ""
        wanted = str(params.get("snapshot", "")).strip()
        if wanted and not await self._find(tenant_id, wanted):
            self.not_found = f"Snapshot {wanted[:40]} was not found: it is not one of this tenant's ready snapshots."
            self.figure, self._graph, self.counts = go.Figure(), None, {}
            return None
        ids = [s["id"] for s in self.snapshots]
        if not ids:
            self.figure, self._graph = go.Figure(), None
            self.message = "No snapshots yet: upload flows on the Sources page."
            return None
        if params:
            self.filters, self.compare_id = filters_from(params), str(params.get("compare", ""))
            self.show_all = params.get("diff") == "all"
        if wanted or self.snapshot_id not in ids:
            self.snapshot_id, self._expanded, self._selected = wanted or ids[0], [], ""
        if self.compare_id not in (*ids, BASELINE):
            self.compare_id = ""
        await self._open(tenant_id)
        return self._url()

    async def _find(self, tenant_id: int, wanted: str) -> bool:
        """Whether `wanted` is one of the tenant's ready snapshots (listed, or older than the listed ones)."""
        if wanted in [s["id"] for s in self.snapshots]:
            return True
        if not wanted.isdigit() or len(wanted) > 18:
            return False
        try:
            self.snapshots = [*self.snapshots, await graph_data.option_of(tenant_id, int(wanted))]
        except NotFound:
            return False
        return True

    def _url(self) -> EventSpec:
        return replace_url(share_query(self.snapshot_id, self.compare_id, self.filters, self.show_all))

    async def _open(self, tenant_id: int) -> None:
        current = int(self.snapshot_id)
        try:
            graph, self._events = await graph_data.load_graph(tenant_id, current)
            home = await graph_data.home_networks(tenant_id)
        except NotFound as exc:
            self.message = exc.message
            return
        notice = ""
        try:
            base = await self._load_base(tenant_id, graph)
        except NotFound as exc:
            base, self.compare_id, notice = None, "", exc.message
        (graph, *rest), missing = await graph_data.placed(tenant_id, [graph] if base is None else [graph, base], home)
        self._graph, self._base = graph, (rest[0] if rest else None)
        layout = await graph_data.layout_of(tenant_id, current, graph, graph_data.previous_of(self.snapshots, current))
        if self._base is not None:
            self._diff = classify(self._base, graph, graph_data.drift_keys(self._events))
            self._layout = compute_layout(union(self._base, graph), layout)
        else:
            self._diff, self._layout = None, layout
        self.namespace_options, self.protocol_options = namespaces(graph), protocols(graph)
        self.cluster_options = clusters(graph)
        self.peer_options = {"country": countries(graph), "asn": autonomous_systems(graph)}
        self.live_offer = {}
        self._redraw()
        self.message = notice or missing or self.message
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
        if self._diff is not None and not self.show_all:
            source = changes_only(source, self._diff)
        shown = apply_filter(source, chosen)
        found = search(shown, chosen.text)
        view = build_view(shown, self._layout, ViewOptions(frozenset(self._expanded), self._diff, found,
                                                     threshold=PAGE_GROUP_THRESHOLD))
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
    async def pick_snapshot(self, value: str) -> EventSpec | None:
        """Open another snapshot; filters, opened groups and the selected node stay."""
        if value not in [s["id"] for s in self.snapshots]:
            self.message = "That snapshot is no longer listed: reload the page."
            return None
        self.snapshot_id = value
        await self._open(self._tenant_id)
        return self._url()

    @rx.event
    @guarded("viewer")
    async def pick_compare(self, value: str) -> EventSpec | None:
        """Overlay the diff from snapshot `value` (the base) to the open one; '' turns it off."""
        if value and value != BASELINE and value not in [s["id"] for s in self.snapshots]:
            self.message = "That snapshot is no longer listed: reload the page."
            return None
        self.compare_id = value
        await self._open(self._tenant_id)
        return self._url()

    @rx.event
    @guarded("viewer")
    def set_filter(self, name: str, value: str | bool) -> EventSpec | None:
        """Change one filter and redraw, without a reload; the URL follows."""
        if name not in FILTER_NAMES:
            return None
        self.filters = {**self.filters, name: str(value).lower() if isinstance(value, bool) else str(value)}
        self._redraw()
        return self._url()

    @rx.event
    @guarded("viewer")
    def set_changes_only(self, value: bool) -> EventSpec:
        """With a diff open: draw only the changes (the default), or the whole graph with the changes marked."""
        self.show_all = not value
        self._redraw()
        return self._url()

    @rx.event
    @guarded("viewer")
    def clear_filters(self) -> EventSpec:
        """Back to the whole graph, groups closed."""
        self.filters, self._expanded = {name: "" for name in FILTER_NAMES}, []
        self._redraw()
        return self._url()

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
            self.message = "No snapshot is open: there is nothing to download."
            return None
        return rx.download(data=json.dumps(graph_json(self._graph)), filename=f"snapshot-{self.snapshot_id}-graph.json",
                           mime_type="application/json")

    @rx.event
    @guarded("viewer")
    async def show_offer(self) -> EventSpec | None:
        """Open the snapshot the live notice offers, keeping filters and selection."""
        tenant_id = self._tenant_id
        offered = self.live_offer.get("id", "")
        self.snapshots = await graph_data.list_options(tenant_id)
        self.live_offer = {}
        if offered not in [s["id"] for s in self.snapshots]:
            self.message = "The offered snapshot is gone (rebuilt or deleted)."
            return None
        self.snapshot_id, self.not_found = offered, ""
        await self._open(tenant_id)
        return self._url()

    def _on_live_event(self, event: dict[str, Any]) -> None:
        """A new or rebuilt snapshot is offered, not forced: the analyst may be reading this one."""
        data = event.get("data", {})
        if data.get("id") is not None:
            window = str(data.get("window_start", ""))[:16].replace("T", " ")
            self.live_offer = {"id": str(data["id"]), "window": f"{window} UTC"}
