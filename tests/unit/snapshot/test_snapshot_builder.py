"""Snapshot aggregation on hand-made frames: identity, sums, windows, caps and determinism."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from jobs.engines.flows import CANONICAL_SCHEMA
from jobs.engines.snapshot.builder import SnapshotAccumulator, build_snapshots
from jobs.engines.snapshot.types import MAX_CONN_STARTS

T0 = datetime(2024, 4, 19, 10, 0, tzinfo=UTC)


def flows(*rows: dict[str, object]) -> pl.DataFrame:
    """A canonical frame from partial rows (defaults: tcp/443, 100 bytes, 1 packet, accept)."""
    base = {
        "ts_start": T0, "ts_end": None, "src_ip": "10.0.0.1", "src_port": 40000,
        "dst_ip": "10.0.0.2", "dst_port": 443, "protocol": "tcp", "bytes": 100, "packets": 1,
        "action": "accept", "src_name": None, "dst_name": None, "src_namespace": None,
        "dst_namespace": None, "src_labels": None, "dst_labels": None,
    }
    return pl.DataFrame([{**base, **row} for row in rows], schema=CANONICAL_SCHEMA)


def test_node_identity_and_kinds() -> None:
    frame = flows(
        {"src_name": "frontend", "src_namespace": "shop", "src_labels": '{"app":"frontend"}',
         "dst_ip": "93.184.216.34"},
        {"src_ip": "10.0.0.9", "src_name": "frontend", "src_namespace": "shop",
         "dst_ip": "192.168.1.5", "dst_name": "world"},
        {"src_ip": "fe80::1", "dst_ip": "ff02::2", "protocol": "icmp6", "dst_port": 0},
        {"src_ip": "100.64.0.1", "dst_ip": "2001:4860:4860::8888", "dst_name": "only-name"},
    )
    (snap,) = build_snapshots(frame).values()
    nodes = {node.key: node for node in snap.nodes}
    assert {key: node.kind for key, node in nodes.items()} == {
        "shop/frontend": "workload", "93.184.216.34": "external", "192.168.1.5": "ip",
        "fe80::1": "ip", "ff02::2": "ip", "100.64.0.1": "ip", "2001:4860:4860::8888": "external",
    }
    frontend = nodes["shop/frontend"]
    assert (frontend.name, frontend.namespace, frontend.labels) == ("frontend", "shop", {"app": "frontend"})
    assert frontend.ips == ("10.0.0.1", "10.0.0.9")
    # A name without a namespace does not make a workload: the IP stays the identity.
    assert (nodes["192.168.1.5"].name, nodes["2001:4860:4860::8888"].name) == ("world", "only-name")
    assert nodes["fe80::1"].name == "fe80::1"


def test_edges_sum_per_key_and_count_rejects() -> None:
    frame = flows(
        {"bytes": 100, "packets": 2, "ts_end": T0 + timedelta(seconds=50)},
        {"ts_start": T0 + timedelta(seconds=30), "bytes": 50, "action": "reject"},
        {"ts_start": T0 + timedelta(seconds=10), "dst_port": 80, "action": None},
        {"ts_start": T0 + timedelta(seconds=20), "protocol": "udp"},
    )
    (snap,) = build_snapshots(frame).values()
    assert [(e.dst_port, e.protocol, e.flows) for e in snap.edges] == [(80, "tcp", 1), (443, "tcp", 2), (443, "udp", 1)]
    edge = snap.edges[1]
    assert (edge.bytes, edge.packets, edge.rejected) == (150, 3, 1)
    assert (edge.first_seen, edge.last_seen) == (T0, T0 + timedelta(seconds=50))
    assert edge.conn_starts == (T0.timestamp(), T0.timestamp() + 30)


def test_windows_align_to_epoch_multiples() -> None:
    frame = flows(
        {"ts_start": datetime(2024, 4, 19, 10, 9, 59, 999999, tzinfo=UTC)},
        {"ts_start": datetime(2024, 4, 19, 10, 10, tzinfo=UTC)},
        {"ts_start": datetime(2024, 4, 19, 10, 19, 59, tzinfo=UTC)},
    )
    snaps = build_snapshots(frame, window_seconds=600)
    assert {start.isoformat(): len(s.edges[0].conn_starts) for start, s in snaps.items()} == {
        "2024-04-19T10:00:00+00:00": 1, "2024-04-19T10:10:00+00:00": 2,
    }
    assert all(s.window_end - s.window_start == timedelta(seconds=600) for s in snaps.values())


def test_conn_starts_keep_the_earliest_sorted_across_batches() -> None:
    starts = [T0 + timedelta(milliseconds=i) for i in range(MAX_CONN_STARTS + 500)]
    random.Random(7).shuffle(starts)
    frame = flows(*({"ts_start": ts} for ts in starts))
    accumulator = SnapshotAccumulator()
    for offset in range(0, frame.height, 333):
        accumulator.add(frame.slice(offset, 333))
    (edge,) = accumulator.build_window(T0).edges
    assert edge.flows == MAX_CONN_STARTS + 500
    assert edge.conn_starts == tuple(T0.timestamp() + i / 1000 for i in range(MAX_CONN_STARTS))


def test_building_twice_or_in_any_order_is_identical() -> None:
    rows = [
        {"ts_start": T0 + timedelta(seconds=97 * i), "src_ip": f"10.0.{i % 3}.1",
         "dst_ip": f"203.0.113.{i % 5}", "dst_port": [None, 22, 443][i % 3], "bytes": i}
        for i in range(200)
    ]
    frame = flows(*rows)
    once = build_snapshots(frame)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=3)
    assert build_snapshots(frame) == once
    assert build_snapshots([shuffled.slice(0, 50), shuffled.slice(50)]) == once
    for snap in once.values():
        keys = [(e.src, e.dst, -1 if e.dst_port is None else e.dst_port, e.protocol) for e in snap.edges]
        assert keys == sorted(keys)
        assert [n.key for n in snap.nodes] == sorted(n.key for n in snap.nodes)


def test_build_window_checks_alignment_and_returns_empty_windows() -> None:
    accumulator = SnapshotAccumulator(window_seconds=3600)
    accumulator.add(flows({}))
    assert accumulator.window_starts() == [T0]
    empty = accumulator.build_window(T0 + timedelta(hours=5))
    assert (empty.nodes, empty.edges) == ([], [])
    with pytest.raises(ValueError, match="not aligned"):
        accumulator.build_window(T0 + timedelta(minutes=5))


@pytest.mark.parametrize("bad", [0, -60, 1.5, True])
def test_window_size_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match="window_seconds"):
        SnapshotAccumulator(window_seconds=bad)  # type: ignore[arg-type]


def test_empty_input_builds_nothing() -> None:
    assert build_snapshots(flows().clear()) == {}
    assert build_snapshots([]) == {}
