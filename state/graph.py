"""The Graph page: a snapshot's service map (home in the centre, outside peers grouped by AS and country),
filters, node details, snapshot diff, a shareable URL and live offers.

Graphs, layouts and drift events stay on the server, per process (state.graph_cache: the state, pickled to Redis
on every event, holds only the ids); the browser gets the figure of the current view, the pickers' options and the
details of the node it clicked.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
import reflex as rx
from reflex_base.event import EventSpec

from jobs.engines.graph.details import node_details
from jobs.engines.graph.diff import changes_only, classify, union
from jobs.engines.graph.figure import uses_webgl, view_figure
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
from jobs.engines.graph.layout import compute_layout
from jobs.engines.graph.model import Graph, graph_json
from jobs.engines.graph.view import PAGE_GROUP_THRESHOLD, ViewOptions, build_view
from models.errors import NotFound
from state import graph_cache, graph_data
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
    # whether a snapshot is open (its graphs are in state.graph_cache, under _key())
    _is_open: bool = False
    _keys: list[list[str]] = []
    _expanded: list[str] = []
    _selected: str = ""

    @rx.var
    def webgl(self) -> bool:
        """The view has WebGL traces (from WEBGL_FROM nodes and edges): the page draws it with plotly's gl2d bundle."""
        return uses_webgl(self.figure)

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
            self.figure, self._is_open, self.counts = go.Figure(), False, {}
            return None
        ids = [s["id"] for s in self.snapshots]
        if not ids:
            self.figure, self._is_open = go.Figure(), False
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

    def _key(self) -> graph_cache.Key:
        return (self._tenant_id, self.snapshot_id, self.compare_id)

    async def _open(self, tenant_id: int) -> None:
        """Open the snapshot (and its diff base) afresh: pickers, figure and details follow."""
        opened = await self._read(tenant_id)
        if opened is None:
            return
        graph = opened.graph
        self.namespace_options, self.protocol_options = namespaces(graph), protocols(graph)
        self.cluster_options = clusters(graph)
        self.peer_options = {"country": countries(graph), "asn": autonomous_systems(graph)}
        self.live_offer = {}
        self._redraw(opened)
        self.message = opened.notice or self.message
        await self._refresh_details(opened)

    async def _read(self, tenant_id: int) -> graph_cache.Opened | None:
        """The open snapshot's graphs, layout, diff and events from the database and stores, kept in this
        process's cache (None, with the message set, when the snapshot is gone)."""
        current = int(self.snapshot_id)
        try:
            graph, events = await graph_data.load_graph(tenant_id, current)
            home = await graph_data.home_networks(tenant_id)
        except NotFound as exc:
            self.message, self._is_open = exc.message, False
            return None
        notice = ""
        try:
            base = await self._load_base(tenant_id, graph)
        except NotFound as exc:
            base, self.compare_id, notice = None, "", exc.message
        (graph, *rest), missing = await graph_data.placed(tenant_id, [graph] if base is None else [graph, base], home)
        layout = await graph_data.layout_of(tenant_id, current, graph, graph_data.previous_of(self.snapshots, current))
        placed_base = rest[0] if rest else None
        if placed_base is not None:
            diff = classify(placed_base, graph, graph_data.drift_keys(events))
            layout = compute_layout(union(placed_base, graph), layout)
        else:
            diff = None
        opened = graph_cache.Opened(graph, placed_base, layout, diff, events, notice or missing)
        graph_cache.keep((tenant_id, self.snapshot_id, self.compare_id), opened)
        self._is_open = True
        return opened

    async def _opened(self) -> graph_cache.Opened | None:
        """The open view: from this process's cache, else read again (another worker, a restart)."""
        if not self._is_open or not self.snapshot_id:
            return None
        found = graph_cache.cached(self._key())
        return found if found is not None else await self._read(self._tenant_id)

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

    def _redraw(self, opened: graph_cache.Opened) -> None:
        source = opened.shown
        try:
            chosen = GraphFilter.parse(self.filters)
        except BadFilter as exc:
            self.message = str(exc)
            return
        if opened.diff is not None and not self.show_all:
            source = changes_only(source, opened.diff)
        shown = apply_filter(source, chosen)
        found = search(shown, chosen.text)
        view = build_view(shown, opened.layout, ViewOptions(frozenset(self._expanded), opened.diff, found,
                                                       threshold=PAGE_GROUP_THRESHOLD))
        self.figure, self._keys = view_figure(view, revision=f"{self.snapshot_id}-{self.compare_id}")
        self.matches, self.grouped = list(found), view.grouped
        self.counts = {k: f"{v:,}" for k, v in view.counts.items()}
        if view.truncated:
            self.counts["hidden lines"] = f"{view.truncated:,}"
        self.message = ""

    async def _refresh_details(self, opened: graph_cache.Opened) -> None:
        detail = await self.get_state(GraphDetailState)
        source = opened.shown
        detail._show(node_details(source, self._selected, opened.events) if self._selected in source.nodes else None)

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
    async def set_filter(self, name: str, value: str | bool) -> EventSpec | None:
        """Change one filter and redraw from the opened (cached) view, without a reload; the URL follows."""
        if name not in FILTER_NAMES:
            return None
        self.filters = {**self.filters, name: str(value).lower() if isinstance(value, bool) else str(value)}
        await self._redraw_open()
        return self._url()

    async def _redraw_open(self) -> None:
        opened = await self._opened()
        if opened is not None:
            self._redraw(opened)

    @rx.event
    @guarded("viewer")
    async def set_changes_only(self, value: bool) -> EventSpec:
        """With a diff open: draw only the changes (the default), or the whole graph with the changes marked."""
        self.show_all = not value
        await self._redraw_open()
        return self._url()

    @rx.event
    @guarded("viewer")
    async def clear_filters(self) -> EventSpec:
        """Back to the whole graph, groups closed."""
        self.filters, self._expanded = {name: "" for name in FILTER_NAMES}, []
        await self._redraw_open()
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
        opened = await self._opened()
        if opened is None:
            return
        if key not in opened.shown.nodes:
            self._expanded = sorted({*self._expanded, key})
            self._redraw(opened)
            return
        self._selected = key
        await self._refresh_details(opened)

    @rx.event
    @guarded("viewer")
    async def download_json(self) -> EventSpec | None:
        """The open snapshot's graph in the REST endpoint's shape."""
        opened = await self._opened()
        if opened is None:
            self.message = "No snapshot is open: there is nothing to download."
            return None
        return rx.download(data=json.dumps(graph_json(opened.graph)),
                           filename=f"snapshot-{self.snapshot_id}-graph.json", mime_type="application/json")

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
