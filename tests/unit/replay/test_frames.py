"""A replay frame from plain data: the period's fixed layout, the change since the previous window, the counts
per window, the timeline and the flows blocked by the policies in force."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.graph.model import Graph
from jobs.engines.replay.frames import (
    Window,
    blocked_flows,
    frame_view,
    period_graph,
    period_layout,
    timeline_figure,
    window_counts,
)
from jobs.engines.replay.history import PolicyVersion, parse_manifest
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord
from tests.unit.graph.builders import edge, graph

T0 = datetime(2026, 11, 30, tzinfo=UTC)
H = timedelta(hours=1)
DB_POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{protocol: TCP, port: 5432}]
"""


def _windows(n: int) -> list[Window]:
    return [Window(i + 1, T0 + i * H, T0 + (i + 1) * H) for i in range(n)]


def test_the_period_layout_places_every_node_of_every_window_once() -> None:
    first, second = graph(edge("a/x", "a/y")), graph(edge("a/y", "b/z"), edge("10.0.0.1", "a/x"))
    nodes = [*first.nodes.values(), *second.nodes.values()]
    layout = period_layout(nodes, [(e.src, e.dst) for g in (first, second) for e in g.edges])
    assert set(layout.nodes) == {"a/x", "a/y", "b/z", "10.0.0.1"}
    # the view of each window uses the same positions: a node does not move between frames
    one = {n.key: (n.x, n.y) for n in frame_view(first, None, layout).nodes}
    two = {n.key: (n.x, n.y) for n in frame_view(second, first, layout).nodes}
    assert one["a/x"] == two["a/x"] == layout.nodes["a/x"]


def test_the_period_layout_places_the_sensor_at_home_as_the_graph_page_does() -> None:
    # a public sensor address the snapshot called external: home by the tenant's settings, so in the centre
    sensor, outside = "147.32.81.167", "203.0.113.9"
    nodes = [NodeRecord(sensor, sensor, "external", None, {}), NodeRecord(outside, outside, "external", None, {}),
             NodeRecord("a/x", "x", "workload", "a", {})]
    pairs = [(sensor, outside), ("a/x", sensor)]
    home = HomeNetworks.of(sensors=[sensor])
    placed = period_graph(nodes, pairs, home)
    assert placed.is_home(sensor) and not placed.is_home(outside)
    assert not period_graph(nodes, pairs).is_home(sensor)  # unplaced, the snapshot's word "external" stood
    layout = period_layout(nodes, pairs, home)
    radius = {k: math.hypot(*layout.nodes[k]) for k in (sensor, outside)}
    assert radius[sensor] < radius[outside]


def test_a_frame_shows_what_the_window_added_and_lost_since_the_previous_one() -> None:
    before = graph(edge("a/x", "a/y"), edge("a/x", "a/w"))
    now = graph(edge("a/x", "a/y"), edge("a/y", "a/z"))
    layout = period_layout([*before.nodes.values(), *now.nodes.values()], [])
    view = frame_view(now, before, layout, drift=[("a/y", "a/z", 80, "tcp")])
    styles = {(e.src, e.dst): e.style for e in view.edges}
    assert styles == {("a/x", "a/y"): "normal", ("a/y", "a/z"): "drift", ("a/x", "a/w"): "removed"}
    assert view.counts["added edges"] == 1 and view.counts["removed edges"] == 1
    # the first frame has nothing to compare with: no change, drift still marked
    first = frame_view(now, None, layout, drift=[("a/y", "a/z", 80, "tcp")])
    assert {e.style for e in first.edges} == {"normal", "drift"}


def _shop() -> Graph:
    nodes = [
        NodeRecord("shop/api", "api", "workload", "shop", {"app": "api"}),
        NodeRecord("shop/web", "web", "workload", "shop", {"app": "web"}),
        NodeRecord("shop/db", "db", "workload", "shop", {"app": "db"}),
    ]
    edges = [
        EdgeRecord("shop/api", "shop/db", 5432, "tcp", 900, 9, 3, 0, T0, T0),
        EdgeRecord("shop/web", "shop/db", 5432, "tcp", 500, 5, 2, 0, T0, T0),
        EdgeRecord("shop/web", "shop/api", 8080, "tcp", 100, 1, 1, 0, T0, T0),
    ]
    return Graph.of(nodes, edges)


def test_blocked_flows_are_the_edges_the_policies_in_force_deny() -> None:
    policy = PolicyVersion(7, "shop", "db", 1, parse_manifest(DB_POLICY))
    blocked = blocked_flows([policy], _shop())
    assert [(b.src, b.dst, b.dst_port, b.side, b.policies) for b in blocked] == [
        ("shop/web", "shop/db", 5432, "ingress", ("shop/db",))
    ]
    assert blocked_flows([], _shop()) == []


def test_window_counts_file_events_by_window_and_incidents_by_overlap() -> None:
    windows = _windows(3)
    events = [(T0, "high", 2), (T0, "low", 1), (T0 + 2 * H, "critical", 4)]
    incidents = [
        (T0 + timedelta(minutes=30), T0 + H + timedelta(minutes=5)),  # windows 1 and 2
        (T0 - 5 * H, T0 - 4 * H),  # over before the period
        (T0 + 2 * H, T0 + 2 * H),
    ]  # window 3
    counts = window_counts(windows, events, incidents)
    assert [c.total_events for c in counts] == [3, 0, 4]
    assert counts[0].events == {"high": 2, "low": 1}
    assert [c.incidents_active for c in counts] == [1, 1, 1]
    assert [c.incidents_new for c in counts] == [1, 0, 1]


def test_the_timeline_stops_at_the_current_window_and_marks_it() -> None:
    windows = _windows(4)
    counts = window_counts(windows, [(T0 + i * H, "high", i + 1) for i in range(4)], [])
    figure = timeline_figure(windows, counts, 1)
    high = next(t for t in figure["data"] if t["name"] == "high")
    assert high["y"] == [1, 2] and high["x"] == [(T0 + H / 2).isoformat(), (T0 + H * 3 / 2).isoformat()]
    (shape,) = figure["layout"]["shapes"]
    assert (shape["x0"], shape["x1"]) == (windows[1].start.isoformat(), windows[1].end.isoformat())
    assert figure["layout"]["xaxis"]["range"] == [windows[0].start.isoformat(), windows[3].end.isoformat()]
    # the event axis is fixed by the busiest window of the whole period, not of the windows shown so far
    assert figure["layout"]["yaxis"]["range"] == [0, 4 * 1.1]
    # plain JSON the page sends as it is (plotly validates it as a figure)
    assert go.Figure(json.loads(json.dumps(figure))).layout.yaxis2.overlaying == "y"


def _two_clusters() -> Graph:
    nodes = [
        NodeRecord(f"{place}shop/{app}", app, "workload", "shop", {"app": app})
        for place in ("", "east/")
        for app in ("api", "web", "db")
    ]
    edges = [
        EdgeRecord("shop/api", "shop/db", 5432, "tcp", 900, 9, 3, 0, T0, T0),
        EdgeRecord("shop/web", "shop/db", 5432, "tcp", 500, 5, 2, 0, T0, T0),
        EdgeRecord("east/shop/api", "east/shop/db", 5432, "tcp", 800, 8, 3, 0, T0, T0),
        EdgeRecord("east/shop/web", "east/shop/db", 5432, "tcp", 400, 4, 2, 0, T0, T0),
        # across the mesh: east's api is an address to the default cluster's policies
        EdgeRecord("east/shop/api", "shop/db", 5432, "tcp", 300, 3, 1, 0, T0, T0),
    ]
    return Graph.of(nodes, edges)


def test_blocked_flows_judge_each_clusters_window_with_its_own_policies() -> None:
    east = PolicyVersion(8, "shop", "db", 1, parse_manifest(DB_POLICY), cluster="east")
    only_east = blocked_flows([east], _two_clusters())
    # east's policy selects east's db only, never the default cluster's look-alike pod
    assert [(b.src, b.dst, b.policies) for b in only_east] == [("east/shop/web", "east/shop/db", ("east/shop/db",))]
    home = PolicyVersion(7, "shop", "db", 1, parse_manifest(DB_POLICY))
    both = blocked_flows([home, east], _two_clusters())
    assert [(b.src, b.dst, b.side, b.policies) for b in both] == [
        ("shop/web", "shop/db", "ingress", ("shop/db",)),
        ("east/shop/web", "east/shop/db", "ingress", ("east/shop/db",)),
        ("east/shop/api", "shop/db", "ingress", ("shop/db",)),
    ]
