"""The Policies page's coverage plot with two clusters (issue 19 A4): each cluster's namespace is its own bar."""

from __future__ import annotations

from state.figures import coverage_figure, coverage_place


def test_two_clusters_namespaces_of_one_name_are_two_bars() -> None:
    rows = [
        {"cluster": "default", "namespace": "shop", "edges": 4, "covered": 3, "percent": 75.0},
        {"cluster": "east", "namespace": "shop", "edges": 2, "covered": 0, "percent": 0.0},
    ]
    assert [coverage_place(r) for r in rows] == ["shop", "east/shop"]
    (bars,) = coverage_figure(rows).data
    assert list(bars.y) == ["shop", "east/shop"] and list(bars.x) == [75.0, 0.0]
    assert list(bars.text) == ["3 of 4 edges", "0 of 2 edges covered"]
    # rows without a cluster (single-cluster data, as before) are named by their namespace
    assert coverage_place({"namespace": "bookinfo"}) == "bookinfo"
