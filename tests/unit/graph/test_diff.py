"""Diff classification on hand-made pairs, and how the view draws it."""

from __future__ import annotations

from jobs.engines.graph.diff import classify, union
from jobs.engines.graph.layout import compute_layout
from jobs.engines.graph.view import ViewOptions, build_view
from tests.unit.graph.builders import edge, graph


def test_added_and_removed_nodes_and_edges() -> None:
    base = graph(edge("a/x", "a/y"), edge("a/x", "a/gone"))
    now = graph(edge("a/x", "a/y"), edge("a/x", "a/new"), edge("a/y", "a/x", 22))
    diff = classify(base, now)
    assert diff.added_nodes == {"a/new"} and diff.removed_nodes == {"a/gone"}
    assert diff.added_edges == {("a/x", "a/new", 80, "tcp"), ("a/y", "a/x", 22, "tcp")}
    assert diff.removed_edges == {("a/x", "a/gone", 80, "tcp")}
    assert diff.counts()["added edges"] == 2


def test_a_new_port_on_an_old_pair_is_an_added_edge() -> None:
    diff = classify(graph(edge("a/x", "a/y", 80)), graph(edge("a/x", "a/y", 80), edge("a/x", "a/y", 8443)))
    assert diff.added_edges == {("a/x", "a/y", 8443, "tcp")} and not diff.added_nodes


def test_identical_snapshots_have_no_difference() -> None:
    g = graph(edge("a/x", "a/y"))
    assert set(classify(g, g).counts().values()) == {0}


def test_drift_marks_only_current_edges_and_portless_events_match_the_pair() -> None:
    now = graph(edge("a/x", "a/y", 80), edge("a/x", "a/y", 22), edge("a/y", "a/z"))
    diff = classify(now, now, [("a/x", "a/y", 22, "tcp"), ("a/y", "a/z", None, "tcp"), ("q/q", "r/r", 1, "tcp")])
    assert diff.drift_edges == {("a/x", "a/y", 22, "tcp"), ("a/y", "a/z", 80, "tcp")}


def test_view_draws_each_class_in_its_style() -> None:
    base = graph(edge("a/x", "a/y"), edge("a/x", "a/gone"))
    now = graph(edge("a/x", "a/y"), edge("a/x", "a/new"), edge("a/y", "a/x", 22))
    diff = classify(base, now, [("a/y", "a/x", 22, "tcp")])
    both = union(base, now)
    view = build_view(both, compute_layout(both), ViewOptions(diff=diff))
    styles = {(e.src, e.dst): e.style for e in view.edges}
    assert styles == {("a/x", "a/y"): "normal", ("a/x", "a/new"): "added", ("a/x", "a/gone"): "removed",
                      ("a/y", "a/x"): "drift"}
    status = {n.key: n.status for n in view.nodes}
    assert status["a/new"] == "added" and status["a/gone"] == "removed" and status["a/x"] == "same"
    assert view.counts["removed edges"] == 1
