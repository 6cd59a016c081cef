"""The Graph page keeps what it opened per process (state.graph_cache), so the Reflex state pickled to Redis on every
event holds ids, not a 5,000-node graph: a filter change no longer pays for pickling it."""

from __future__ import annotations

import pickle

from jobs.engines.graph.layout import compute_layout
from state import graph_cache
from state.graph import GraphState
from tests.unit.graph.builders import edge, estate, graph


def test_opened_views_are_kept_by_tenant_snapshot_and_compare_and_the_oldest_is_dropped() -> None:
    g = graph(edge("a/x", "a/y"))
    opened = graph_cache.Opened(g, None, compute_layout(g), None, [])
    graph_cache.keep((1, "5", ""), opened)
    assert graph_cache.cached((1, "5", "")) is opened
    # another tenant, or the same snapshot compared with something, is another view
    assert graph_cache.cached((2, "5", "")) is None and graph_cache.cached((1, "5", "baseline")) is None
    for n in range(graph_cache.MAX_OPENED):
        graph_cache.keep((9, str(n), ""), opened)
    assert graph_cache.cached((1, "5", "")) is None
    assert graph_cache.cached((9, "0", "")) is opened


def test_the_state_pickled_per_event_holds_no_graph() -> None:
    private = {name: str(kind) for name, kind in GraphState.__annotations__.items() if name.startswith("_")}
    assert private and not [k for k in private.values() if any(t in k for t in ("Graph", "Layout", "Diff"))], private
    big = estate(50, 100)
    # what moved out of the state: pickling a 5,000-node graph took ~0.2 s and ~1.4 MB per event
    assert len(pickle.dumps(big)) > 100_000
