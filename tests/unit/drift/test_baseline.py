"""The rolling baseline: statistics, sliding, idempotency, order, and the row round trip."""

from __future__ import annotations

import json
import random
from datetime import datetime

import pytest

from jobs.engines.drift import Baseline, BaselineOrderError, analyze, build_baseline, update_baseline
from jobs.engines.drift.records import Snapshot
from jobs.engines.drift.rows import BaselineRowError, baseline_from_rows, baseline_to_rows
from jobs.engines.snapshot.types import EdgeRecord

from .builders import NOW, edge, nodes_of, periodic_starts, snapshot
from .scenario import build_scenario

A, B, C = "shop/a", "shop/b", "shop/c"


def snaps(windows: list[list[EdgeRecord]]) -> list[Snapshot]:
    return [snapshot(i, nodes_of(e), e) for i, e in enumerate(windows)]


def test_edge_statistics_over_present_windows() -> None:
    baseline = build_baseline(snaps([[edge(A, B, nbytes=v, flows=f)] for v, f in
                                     ((100, 1), (200, 3), (300, 5))]))
    entry = baseline.edges[(A, B, 80, "tcp")]
    assert entry.windows_seen == 3 and baseline.held == 3
    stats = entry.bytes_stats
    assert (stats.mean, stats.median, stats.mad) == (200.0, 200.0, 100.0)
    assert stats.std == pytest.approx(81.6497, rel=1e-4)
    assert entry.flows_stats.mean == 3.0


def test_baseline_slides_over_the_last_n_windows() -> None:
    windows = [[edge(A, B), edge(A, C)], [edge(A, B)], [edge(A, B)]]
    baseline = build_baseline(snaps(windows), window_count=2)
    assert baseline.held == 2
    assert (A, C, 80, "tcp") not in baseline.edges
    assert "shop/c" not in baseline.nodes
    assert baseline.edges[(A, B, 80, "tcp")].windows_seen == 2


def test_update_is_idempotent_and_rejects_older_windows() -> None:
    history = snaps([[edge(A, B)]] * 3)
    baseline = build_baseline(history)
    assert update_baseline(baseline, history[-1]) is baseline
    with pytest.raises(BaselineOrderError):
        update_baseline(build_baseline(history[1:]), history[0])


def test_build_ignores_input_order_and_duplicates() -> None:
    history = build_scenario(seed=3, baseline_windows=8).history
    shuffled = [*history, history[2]]
    random.Random(1).shuffle(shuffled)
    assert baseline_to_rows(build_baseline(shuffled)) == baseline_to_rows(build_baseline(history))


def test_older_documents_with_pair_rows_still_load() -> None:
    baseline = build_baseline(snaps([[edge(A, B)], [edge(A, B)]]))
    rows = baseline_to_rows(baseline)
    # drift kept beacon timing per pair until detection took beacons over
    old_pair = {"row_type": "pair", "src": A, "dst": B, "last_start": 1713484900.0, "intervals": [300.0],
                "windows": [rows[0]["windows"][0]], "periodic_windows": []}
    assert baseline_to_rows(baseline_from_rows([*rows, old_pair])) == rows
    assert not any(row["row_type"] == "pair" for row in rows)


def test_rows_survive_json_and_give_the_same_analysis() -> None:
    scenario = build_scenario(seed=5)
    baseline = build_baseline(scenario.history)
    rows = json.loads(json.dumps(baseline_to_rows(baseline)))
    rebuilt = baseline_from_rows(reversed(rows))
    assert baseline_to_rows(rebuilt) == baseline_to_rows(baseline)
    edge_row = next(r for r in rows if r["row_type"] == "edge")
    summary = {"windows_seen", "bytes_mean", "bytes_std", "flows_mean", "flows_std", "last_seen"}
    assert summary <= set(edge_row)
    args = (scenario.attack, scenario.history[-1])
    original = analyze(*args, baseline, criticality=scenario.criticality, now=NOW)
    again = analyze(*args, rebuilt, criticality=scenario.criticality, now=NOW)
    assert [e.to_dict() for e in again] == [e.to_dict() for e in original]


def test_rows_without_meta_or_with_unknown_type_are_rejected() -> None:
    rows = baseline_to_rows(build_baseline(snaps([[edge(A, B)]])))
    with pytest.raises(BaselineRowError):
        baseline_from_rows(rows[1:])
    with pytest.raises(BaselineRowError):
        baseline_from_rows([*rows, {"row_type": "mystery"}])


def test_naive_datetimes_are_taken_as_utc() -> None:
    starts = tuple(1713484800.0 + s for s in periodic_starts(random.Random(0), 300, 5))
    naive = EdgeRecord(A, B, 80, "tcp", 10, 1, 1, 0, datetime(2024, 4, 19, 0, 5),
                       datetime(2024, 4, 19, 0, 6), starts)
    aware_snapshot = snapshot(0, nodes_of([naive]), [naive])
    naive_snapshot = Snapshot(datetime(2024, 4, 19), datetime(2024, 4, 19, 1), aware_snapshot.nodes, (naive,))
    assert build_baseline([naive_snapshot]).windows == build_baseline([aware_snapshot]).windows
    later = snapshot(1, nodes_of([edge(A, B)]), [edge(A, B)])
    # a naive last_seen in the baseline must compare with aware ones later on
    assert update_baseline(build_baseline([naive_snapshot]), later).held == 2


def test_window_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window_count"):
        Baseline(window_count=0)
