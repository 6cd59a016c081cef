"""Home in the centre, outside peers grouped by AS and country, directed edges, labels that do not collide,
peer filters, details with the peer's network, and a diff that keeps only what changed."""

from __future__ import annotations

import math

import pytest

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.graph.details import node_details
from jobs.engines.graph.diff import changes_only, classify, union
from jobs.engines.graph.figure import view_figure
from jobs.engines.graph.filters import BadFilter, GraphFilter, apply_filter, autonomous_systems, countries
from jobs.engines.graph.labels import _label_box, labelled, scale
from jobs.engines.graph.layout import compute_layout, covers
from jobs.engines.graph.model import Graph
from jobs.engines.graph.view import PAGE_GROUP_THRESHOLD, ViewOptions, build_view
from jobs.engines.graph.zones import place
from tests.unit.graph.builders import edge, node

SENSOR = "64.225.56.201"
DO = (14061, "DigitalOcean, LLC", "US")
GOOGLE = (15169, "Google LLC", "US")
HETZNER = (24940, "Hetzner Online GmbH", "DE")


def zeek_like(peers: int = 60) -> tuple[Graph, dict[str, tuple[int, str, str]]]:
    """An internet-facing sensor talking to `peers` outside addresses of three networks (both ways)."""
    info: dict[str, tuple[int, str, str]] = {}
    edges = []
    for i in range(peers):
        address = f"{[137, 142, 88][i % 3]}.{i // 250}.{i % 250}.{i % 7 + 1}"
        info[address] = (DO, GOOGLE, HETZNER)[i % 3]
        edges.append(edge(address, SENSOR, 22) if i % 2 else edge(SENSOR, address, 443))
    nodes = [node(SENSOR, "external"), *(node(a, "external") for a in info)]
    return Graph.of(nodes, edges), info


def placed(peers: int = 60) -> Graph:
    graph, info = zeek_like(peers)
    return place(graph, HomeNetworks.of(sensors=[SENSOR]), info)


def test_the_sensor_is_home_and_peers_group_by_as_and_country() -> None:
    g = placed()
    assert g.is_home(SENSOR) and g.group(SENSOR) == f"home:{SENSOR}/32"
    assert {g.group(k) for k in g.nodes if k != SENSOR} == {
        "as:AS14061 DigitalOcean, LLC, US", "as:AS15169 Google LLC, US", "as:AS24940 Hetzner Online GmbH, DE"}
    view = build_view(g, compute_layout(g), ViewOptions(threshold=PAGE_GROUP_THRESHOLD))
    points = {n.key: n for n in view.nodes}
    assert view.grouped and points[SENSOR].kind == "home"
    assert points["as:AS14061 DigitalOcean, LLC, US"].label == "AS14061 DigitalOcean, LLC, US (20)"
    assert {n.kind for n in view.nodes if n.key != SENSOR} == {"outside group"}


def test_home_sits_in_the_centre_and_peers_around_it() -> None:
    g = placed()
    layout = compute_layout(g)
    assert layout.nodes[SENSOR] == (0.0, 0.0)
    rings = [math.hypot(*layout.groups[grp]) for grp in g.outside]
    assert min(rings) > 30
    # a country's networks are neighbours on the ring: the two US groups come first, then Germany
    us = [layout.groups["as:AS14061 DigitalOcean, LLC, US"], layout.groups["as:AS15169 Google LLC, US"]]
    assert all(math.hypot(*p) == pytest.approx(rings[0], rel=0.5) for p in us)
    assert covers(layout, g)


def test_a_network_with_one_peer_joins_its_country() -> None:
    graph, info = zeek_like(6)
    graph = Graph.of([*graph.nodes.values(), node("1.1.1.1", "external")],
                     [*graph.edges, edge(SENSOR, "1.1.1.1", 53, "udp")])
    g = place(graph, HomeNetworks.of(sensors=[SENSOR]), {**info, "1.1.1.1": (13335, "Cloudflare", "AU")})
    assert g.group("1.1.1.1") == "as:other networks, AU"


def test_private_addresses_are_home_by_default_and_group_by_slash_24() -> None:
    g = place(Graph.of([], [edge("10.1.2.3", "8.8.8.8", 53, "udp")]), HomeNetworks.of(), {"8.8.8.8": GOOGLE})
    assert g.group("10.1.2.3") == "home:10.1.2.0/24" and not g.is_home("8.8.8.8")


def test_every_edge_has_an_arrowhead_pointing_at_its_destination() -> None:
    g = place(Graph.of([node(SENSOR, "external"), node("137.0.0.1", "external")],
                       [edge(SENSOR, "137.0.0.1", 443)]), HomeNetworks.of(sensors=[SENSOR]), {"137.0.0.1": DO})
    layout = compute_layout(g)
    figure, _ = view_figure(build_view(g, layout))
    (arrows,) = [t for t in figure.data if t.meta and t.meta.get("directed")]
    (sx, sy), (dx, dy) = layout.nodes[SENSOR], layout.nodes["137.0.0.1"]
    assert arrows.marker.angle[0] == pytest.approx(math.degrees(math.atan2(dx - sx, dy - sy)), abs=0.1)
    # the head sits nearer the destination than the source
    assert math.hypot(arrows.x[0] - dx, arrows.y[0] - dy) < math.hypot(arrows.x[0] - sx, arrows.y[0] - sy)


def test_labels_drawn_do_not_overlap() -> None:
    g = placed(600)
    view = build_view(g, compute_layout(g), ViewOptions(threshold=PAGE_GROUP_THRESHOLD))
    chosen = labelled(view.nodes)
    assert SENSOR in chosen
    at = {n.key: n for n in view.nodes}
    px = scale(view.nodes)
    boxes = [_label_box(at[k], px, pos) for k, pos in chosen.items()]
    assert len(boxes) >= 2
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def test_filters_by_country_as_and_direction() -> None:
    g = placed(30)
    germany = apply_filter(g, GraphFilter.parse({"country": "de"}))
    assert {g.info[k][2] for k in germany.nodes if k != SENSOR} == {"DE"} and SENSOR in germany.nodes
    google = apply_filter(g, GraphFilter.parse({"asn": "AS15169"}))
    assert {g.info[k][0] for k in google.nodes if k != SENSOR} == {15169}
    inbound = apply_filter(g, GraphFilter.parse({"direction": "inbound"}))
    assert inbound.edges and all(e.dst == SENSOR for e in inbound.edges)
    outbound = apply_filter(g, GraphFilter.parse({"direction": "outbound"}))
    assert outbound.edges and all(e.src == SENSOR for e in outbound.edges)
    assert countries(g)[0] == {"value": "US", "label": "US (20)"}
    assert autonomous_systems(g)[0]["label"] == "AS14061 DigitalOcean, LLC (10)"
    for bad in ({"country": "USA"}, {"asn": "ASX"}, {"direction": "sideways"}):
        with pytest.raises(BadFilter):
            GraphFilter.parse(bad)


def test_details_name_the_peers_network() -> None:
    g = placed(6)
    peer = next(k for k in g.nodes if g.info.get(k) == HETZNER)
    found = node_details(g, peer)
    assert (found["zone"], found["asn"], found["as_org"], found["country"]) == (
        "outside", "AS24940", "Hetzner Online GmbH", "DE")
    assert node_details(g, SENSOR)["zone"] == "home"


def test_the_diff_keeps_only_what_changed() -> None:
    base = placed(60)
    current = base.with_parts(base.nodes, (*base.edges[1:], edge(SENSOR, "137.0.0.1", 8443)))
    diff = classify(base, current)
    only = changes_only(union(base, current), diff)
    assert {e.key for e in only.edges} == diff.added_edges | diff.removed_edges
    assert len(only.edges) == 2 and set(only.nodes) <= {SENSOR, "137.0.0.1", base.edges[0].dst, base.edges[0].src}
