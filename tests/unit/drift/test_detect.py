"""Each drift kind on hand-made snapshot pairs, plus the quiet cases."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.engines.drift import Baseline, BaselineOrderError, DriftEventRecord, analyze, build_baseline
from jobs.engines.drift.records import Snapshot
from jobs.engines.snapshot.types import EdgeRecord

from .builders import NOW, edge, nodes_of, snapshot

A, B, C, D = "shop/a", "shop/b", "shop/c", "shop/d"
PEER = "45.77.23.9"


def found(events: list[DriftEventRecord]) -> set[tuple[str, str, str, int | None]]:
    return {(e.kind, e.src, e.dst, e.dst_port) for e in events}


def history(windows: list[list[EdgeRecord]]) -> list[Snapshot]:
    return [snapshot(i, nodes_of(edges, external=[PEER]), edges) for i, edges in enumerate(windows)]


def run(past: list[Snapshot], edges: list[EdgeRecord]) -> list[DriftEventRecord]:
    current = snapshot(len(past), nodes_of(edges, external=[PEER]), edges)
    return analyze(current, past[-1] if past else None, build_baseline(past), now=NOW)


STEADY = [edge(A, B, 80), edge(D, C, 80)]


def test_first_snapshot_is_learning() -> None:
    current = snapshot(0, nodes_of(STEADY), STEADY)
    assert analyze(current, None, Baseline(), now=NOW) == []
    empty_previous = snapshot(0, [], [])
    assert analyze(snapshot(1, nodes_of(STEADY), STEADY), empty_previous, Baseline(), now=NOW) == []


def test_empty_current_snapshot_is_a_collection_gap() -> None:
    past = history([STEADY] * 4)
    assert run(past, []) == []


def test_identical_snapshots_give_no_events() -> None:
    past = history([STEADY])
    assert run(past, STEADY) == []
    # the previous snapshot alone, baseline empty, is folded in and still means "nothing changed"
    current = snapshot(1, nodes_of(STEADY), STEADY)
    assert analyze(current, past[0], Baseline(), now=NOW) == []


def test_new_edge_between_known_nodes() -> None:
    events = run(history([STEADY] * 4), [*STEADY, edge(A, C, 80)])
    assert found(events) == {("new_edge", A, C, 80)}


def test_new_port_on_a_known_pair() -> None:
    events = run(history([STEADY] * 4), [*STEADY, edge(A, B, 22)])
    assert found(events) == {("new_port", A, B, 22)}
    assert events[0].evidence["known_ports"] == ["80/tcp"]


def test_new_external_peer_is_one_event_per_pair_and_no_new_node() -> None:
    events = run(history([STEADY] * 4), [*STEADY, edge(A, PEER, 443), edge(A, PEER, 80, nbytes=10)])
    assert found(events) == {("new_external", A, PEER, 443)}
    assert events[0].evidence["ports"] == ["443/tcp", "80/tcp"]


def test_new_node_and_its_edge() -> None:
    events = run(history([STEADY] * 4), [*STEADY, edge("shop/e", B, 80)])
    assert found(events) == {("new_node", "shop/e", "shop/e", None), ("new_edge", "shop/e", B, 80)}


def test_removed_edge_only_for_stable_edges_present_in_the_previous_window() -> None:
    stable, flaky, gone_earlier = edge(A, B, 80), edge(A, C, 80), edge(A, D, 80)
    windows = [[stable, gone_earlier, edge(D, C, 80)]] * 3 + [[stable, flaky, edge(D, C, 80)]]
    past = history(windows)
    events = run(past, [edge(D, C, 80)])
    assert found(events) == {("removed_edge", A, B, 80)}
    # reported once: in the next window the edge is no longer in the previous snapshot
    later = [*past, snapshot(4, nodes_of([edge(D, C, 80)]), [edge(D, C, 80)])]
    assert run(later, [edge(D, C, 80)]) == []


def _volume_history(volumes: list[int]) -> list[Snapshot]:
    return history([[edge(A, B, 80, nbytes=v, flows=10)] for v in volumes])


def test_traffic_spike_on_a_mature_edge() -> None:
    rng = random.Random(3)
    past = _volume_history([int(1e6 * rng.uniform(0.8, 1.2)) for _ in range(8)])
    events = run(past, [edge(A, B, 80, nbytes=50_000_000, flows=10)])
    assert found(events) == {("traffic_spike", A, B, 80)}
    assert events[0].evidence["z_bytes"] > 50
    assert run(past, [edge(A, B, 80, nbytes=1_300_000, flows=10)]) == []


def test_no_spike_without_enough_baseline_windows() -> None:
    assert run(_volume_history([1_000_000] * 3), [edge(A, B, 80, nbytes=90_000_000)]) == []


def test_flat_baseline_does_not_explode() -> None:
    past = _volume_history([1000] * 8)
    assert run(past, [edge(A, B, 80, nbytes=1500, flows=10)]) == []
    events = run(past, [edge(A, B, 80, nbytes=100_000, flows=10)])
    z = events[0].evidence["z_bytes"]
    assert events[0].kind == "traffic_spike" and 10 < z < 100


def test_flow_count_spike() -> None:
    past = history([[edge(A, B, 80, nbytes=1_000_000, flows=100)] for _ in range(8)])
    events = run(past, [edge(A, B, 80, nbytes=1_000_000, flows=5_000)])
    assert found(events) == {("traffic_spike", A, B, 80)}
    assert "flows" in events[0].explanation


def test_spike_downwards_is_not_a_spike() -> None:
    past = _volume_history([10_000_000] * 8)
    assert run(past, [edge(A, B, 80, nbytes=10, flows=10)]) == []


def test_baseline_holding_the_current_window_is_refused() -> None:
    past = history([STEADY] * 2)
    with pytest.raises(BaselineOrderError):
        analyze(past[-1], past[0], build_baseline(past), now=NOW)


ENDPOINTS = st.sampled_from([A, B, C, D, PEER, "10.0.0.7"])


# no example database: it would be written outside this package
@settings(database=None)
@given(st.lists(st.tuples(ENDPOINTS, ENDPOINTS, st.sampled_from([22, 53, 80, 5432]),
                          st.integers(1, 10**9)), min_size=1, max_size=12))
def test_identical_random_snapshots_are_quiet(rows: list[tuple[str, str, int, int]]) -> None:
    edges = list({(s, d, p): edge(s, d, p, nbytes=n) for s, d, p, n in rows}.values())
    past = history([edges])
    assert run(past, edges) == []
