"""The columnar snapshot (what build_snapshot persists) agrees with the records, and stored
5-minute partials merge into exactly the window a one-pass build gives."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import polars as pl
from snapshot_data import rita_hourly_files
from test_snapshot_builder import T0, flows

from jobs.engines.flows import parse_file
from jobs.engines.snapshot.builder import (
    EDGE_FRAME_SCHEMA,
    NODE_FRAME_SCHEMA,
    SnapshotAccumulator,
    WindowFrames,
    WindowSnapshot,
    build_frames,
    build_snapshots,
)


def as_rows(frames: WindowFrames) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    return [tuple(row) for row in frames.nodes.iter_rows()], [tuple(row) for row in frames.edges.iter_rows()]


def from_records(snap: WindowSnapshot) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    nodes = [(n.key, n.name, n.kind, n.namespace, json.dumps(n.labels), list(n.ips)) for n in snap.nodes]
    edges = [(e.src, e.dst, e.dst_port, e.protocol, e.bytes, e.packets, e.flows, e.rejected, e.first_seen,
              e.last_seen, list(e.conn_starts), e.unanswered) for e in snap.edges]
    return nodes, edges


def mixed_flows() -> pl.DataFrame:
    rng = random.Random(11)
    rows = [
        {"ts_start": T0 + timedelta(seconds=rng.randrange(7200), microseconds=rng.randrange(10**6)),
         "ts_end": None if i % 4 else T0 + timedelta(hours=2, seconds=i),
         "src_ip": f"10.0.{i % 4}.{i % 7}", "dst_ip": rng.choice(["203.0.113.9", "10.1.1.1", "fe80::1"]),
         "dst_port": [None, 22, 443, 8080][i % 4], "protocol": ["tcp", "udp"][i % 2], "bytes": i, "packets": i % 5,
         "action": ["accept", "reject", None][i % 3],
         "src_name": "api" if i % 3 == 0 else None, "src_namespace": "shop" if i % 3 == 0 else None,
         "src_labels": '{"tier":"web","app":"api"}' if i % 3 == 0 else None,
         "dst_name": "world" if i % 5 == 0 else "", "dst_labels": '{"z":"1"}' if i % 5 == 0 else None}
        for i in range(3000)
    ]
    return flows(*rows)


def test_frames_hold_exactly_what_the_records_hold() -> None:
    frame = mixed_flows()
    records, columns = build_snapshots(frame), build_frames(frame)
    assert list(columns) == list(records) and len(columns) == 2
    for start, snap in records.items():
        built = columns[start]
        assert (built.window_start, built.window_end) == (snap.window_start, snap.window_end)
        assert built.nodes.schema == pl.Schema(NODE_FRAME_SCHEMA)
        assert built.edges.schema == pl.Schema(EDGE_FRAME_SCHEMA)
        assert as_rows(built) == from_records(snap)
    labels = dict(zip(*columns[T0].nodes.select("key", "labels"), strict=True))
    assert labels["shop/api"] == '{"app": "api", "tier": "web"}' and labels["10.0.1.1"] == "{}"


def test_five_minute_partials_merge_into_the_one_pass_window() -> None:
    frame = mixed_flows()
    stored = SnapshotAccumulator(window_seconds=300)
    for offset in range(0, frame.height, 700):  # batches, as ingestion stages them
        stored.add(frame.slice(offset, 700))
    edges, nodes = stored.partials()
    assert edges["window"].n_unique() == 24
    hourly = SnapshotAccumulator(window_seconds=3600)
    # Partials arrive per partition file, in any order.
    for (window,), part in sorted(edges.partition_by("window", as_dict=True).items(), reverse=True):
        hourly.add_partials(part, nodes.filter(pl.col("window") == window))
    once = build_frames(frame)
    for start in once:
        assert as_rows(hourly.build_window_frames(start)) == as_rows(once[start])
    assert hourly.build() == build_snapshots(frame)


def test_real_zeek_hours_give_the_same_frames_and_records() -> None:
    path = rita_hourly_files()[5]
    parsed = parse_file(path).frame
    records, columns = build_snapshots(parsed), build_frames(parsed)
    assert {start: as_rows(frames) for start, frames in columns.items()} == {
        start: from_records(snap) for start, snap in records.items()
    }
    assert sum(frames.edges["flows"].sum() for frames in columns.values()) == parsed.height


def test_an_empty_window_has_typed_empty_frames() -> None:
    accumulator = SnapshotAccumulator()
    accumulator.add(flows({}))
    empty = accumulator.build_window_frames(T0 + timedelta(hours=3))
    assert empty.window_start == datetime(2024, 4, 19, 13, tzinfo=UTC)
    assert (empty.nodes.height, empty.edges.height) == (0, 0)
    assert empty.edges.schema == pl.Schema(EDGE_FRAME_SCHEMA)
