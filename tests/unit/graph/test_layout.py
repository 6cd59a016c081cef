"""Layout: deterministic, stable between snapshots, cached per snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.engines.graph.layout import compute_layout, covers
from jobs.stores.layouts import layout_for, layout_path, load_layout
from tests.unit.graph.builders import edge, estate, graph


def test_same_graph_same_seed_gives_the_same_positions() -> None:
    g = estate(4, 10, ips=20)
    assert compute_layout(g) == compute_layout(g)
    assert covers(compute_layout(g), g)


def test_another_seed_moves_nodes() -> None:
    g = estate(3, 5)
    assert compute_layout(g, seed=1).nodes != compute_layout(g, seed=2).nodes


def test_known_nodes_stay_put_and_newcomers_join_their_group() -> None:
    before = estate(3, 8)
    first = compute_layout(before)
    after = graph(*before.edges, edge("ns1/svc0", "ns1/brand-new"), edge("ns9/alone", "ns0/svc0"))
    second = compute_layout(after, first)
    assert all(second.nodes[k] == first.nodes[k] for k in before.nodes)
    assert set(second.nodes) == set(after.nodes)
    cx, cy = first.groups["ns:ns1"]
    nx_, ny_ = second.nodes["ns1/brand-new"]
    # a newcomer lands inside its group's circle, not somewhere random
    assert ((nx_ - cx) ** 2 + (ny_ - cy) ** 2) ** 0.5 < 80
    assert second.groups["ns:ns1"] == first.groups["ns:ns1"]


def test_big_groups_use_the_spiral_and_stay_distinct() -> None:
    g = estate(2, 200)
    layout = compute_layout(g)
    assert len(set(layout.nodes.values())) == len(g.nodes)


def test_layout_is_cached_per_snapshot_and_seeded_from_the_previous(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path))
    from models.settings import get_settings
    get_settings.cache_clear()
    try:
        old = estate(2, 4)
        first = layout_for(1, 10, old, previous_id=None)
        assert layout_path(1, 10).exists() and load_layout(1, 10) == first
        new = graph(*old.edges, edge("ns0/svc0", "ns0/extra"))
        second = layout_for(1, 11, new, previous_id=10)
        assert all(second.nodes[k] == first.nodes[k] for k in old.nodes)
        assert layout_for(1, 11, new, previous_id=10) == second
        assert load_layout(2, 10) is None
    finally:
        get_settings.cache_clear()
