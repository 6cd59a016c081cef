"""Grouping above the threshold, drilling into a group, filters and search."""

from __future__ import annotations

import pytest

from jobs.engines.graph.filters import BadFilter, GraphFilter, apply_filter, search
from jobs.engines.graph.layout import compute_layout
from jobs.engines.graph.model import group_of
from jobs.engines.graph.view import ViewOptions, build_view
from tests.unit.graph.builders import edge, estate, graph, node


def test_group_keys_by_namespace_subnet_and_external() -> None:
    assert group_of(node("shop/cart")) == "ns:shop"
    assert group_of(node("10.1.2.3", "ip")) == "net:10.1.2.0/24"
    assert group_of(node("8.8.8.8", "external")) == "external"
    assert group_of(node("fd00::1", "ip")) == "net:fd00::/64"


def test_big_graphs_open_grouped_with_counts() -> None:
    # home groups up to HOME_OPEN_UP_TO members stay open: these are bigger
    g = estate(3, 40, ips=35)
    view = build_view(g, compute_layout(g), ViewOptions(threshold=50))
    assert view.grouped
    counts = {n.key: n.count for n in view.nodes}
    assert counts == {"ns:ns0": 40, "ns:ns1": 40, "ns:ns2": 40, "net:10.0.0.0/24": 35}
    # inter-group calls survive as group edges; chains inside a group do not
    pairs = {(e.src, e.dst) for e in view.edges}
    assert ("ns:ns0", "ns:ns1") in pairs and ("net:10.0.0.0/24", "ns:ns0") in pairs
    assert all(e.src != e.dst for e in view.edges)


def test_drilling_into_a_group_shows_its_members_only() -> None:
    g = estate(3, 40)
    view = build_view(g, compute_layout(g), ViewOptions(threshold=50, expanded=frozenset({"ns:ns1"})))
    keys = {n.key for n in view.nodes}
    assert {f"ns1/svc{i}" for i in range(40)} <= keys
    assert {"ns:ns0", "ns:ns2"} <= keys and "ns:ns1" not in keys
    assert ("ns1/svc0", "ns:ns2") in {(e.src, e.dst) for e in view.edges}


def test_small_graphs_are_not_grouped() -> None:
    g = estate(2, 3)
    assert not build_view(g, compute_layout(g)).grouped


def test_parallel_edges_merge_with_their_ports() -> None:
    g = graph(edge("a/x", "a/y", 80), edge("a/x", "a/y", 443, size=50))
    (merged,) = build_view(g, compute_layout(g)).edges
    assert (merged.ports, merged.bytes, merged.flows) == ("80, 443", 150, 2)


def test_namespace_filter_keeps_the_namespace_and_who_talks_to_it() -> None:
    g = graph(edge("shop/cart", "shop/db"), edge("ops/prom", "shop/cart"), edge("ops/prom", "ops/graf"))
    kept = apply_filter(g, GraphFilter(namespace="shop"))
    assert set(kept.nodes) == {"shop/cart", "shop/db", "ops/prom"}
    assert len(kept.edges) == 2


def test_edge_filters_hide_nodes_left_alone() -> None:
    g = graph(edge("a/x", "a/y", 80, size=10), edge("a/x", "a/z", 5432, size=9000),
              edge("a/x", "1.2.3.4", 53, "udp"), extra=(node("9.9.9.9", "external"),))
    g = graph(*g.edges, edge("a/x", "9.9.9.9", 443), extra=(node("9.9.9.9", "external"),))
    assert {e.dst for e in apply_filter(g, GraphFilter(port=5432)).edges} == {"a/z"}
    assert {e.dst for e in apply_filter(g, GraphFilter(protocol="udp")).edges} == {"1.2.3.4"}
    assert {e.dst for e in apply_filter(g, GraphFilter(min_bytes=1000)).edges} == {"a/z"}
    assert set(apply_filter(g, GraphFilter(external_only=True)).nodes) == {"a/x", "9.9.9.9"}
    assert set(apply_filter(g, GraphFilter(kind="ip")).nodes) == {"1.2.3.4", "a/x"}


def test_filters_parse_from_the_page_and_refuse_nonsense() -> None:
    parsed = GraphFilter.parse({"port": "443", "min_bytes": "10", "protocol": "TCP", "external_only": "true"})
    assert (parsed.port, parsed.min_bytes, parsed.protocol, parsed.external_only) == (443, 10, "tcp", True)
    for bad in ({"port": "http"}, {"port": "70000"}, {"min_bytes": "-1"}, {"kind": "pod"}):
        with pytest.raises(BadFilter):
            GraphFilter.parse(bad)


def test_search_matches_keys_names_and_labels() -> None:
    g = graph(edge("bookinfo/productpage-v1", "bookinfo/reviews-v1"))
    assert search(g, "PRODUCT") == ("bookinfo/productpage-v1",)
    assert search(g, "bookinfo") == ("bookinfo/productpage-v1", "bookinfo/reviews-v1")
    assert search(g, "  ") == ()
