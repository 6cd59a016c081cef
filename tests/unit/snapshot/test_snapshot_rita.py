"""Three days of real hourly Zeek logs become hourly snapshots that match an independent count."""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from snapshot_data import rita_hourly_files

from jobs.engines.flows import iter_batches, parse_file
from jobs.engines.snapshot.builder import SnapshotAccumulator, WindowSnapshot, build_snapshots

HOUR = 3600


def _opened_by_responder(record: dict[str, str]) -> bool:
    """Zeek's history read directly: a SYN only from the responder ('s' without 'S'), or a SYN-ACK from the
    originator ('H' without 'h'), on a TCP/UDP record whose responder sent packets."""
    history = record.get("history", "-")
    if record["proto"] == "icmp" or record.get("resp_pkts") == "0" or history == "-":
        return False
    if ("S" in history) != ("s" in history):
        return "s" in history
    return "H" in history and "h" not in history


def independent_edge_counts() -> dict[datetime, int]:
    """Distinct (orig_h, resp_h, resp_p, proto) per hour of ts, with only csv and gzip."""
    edges: dict[int, set[tuple[str, str, str, str]]] = defaultdict(set)
    for path in rita_hourly_files():
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            fields: list[str] = []
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                if row and row[0] == "#fields":
                    fields = row[1:]
                elif row and not row[0].startswith("#"):
                    record = dict(zip(fields, row, strict=True))
                    hour = int(float(record["ts"])) // HOUR * HOUR
                    if _opened_by_responder(record):  # the handshake says Zeek named the server as originator
                        edge = (record["id.resp_h"], record["id.orig_h"], record["id.orig_p"], record["proto"])
                    else:
                        edge = (record["id.orig_h"], record["id.resp_h"], record["id.resp_p"], record["proto"])
                    edges[hour].add(edge)
    return {datetime.fromtimestamp(hour, tz=UTC): len(keys) for hour, keys in sorted(edges.items())}


@pytest.fixture(scope="module")
def snapshots() -> dict[datetime, WindowSnapshot]:
    return build_snapshots((parse_file(path).frame for path in rita_hourly_files()), window_seconds=HOUR)


def test_hourly_windows_match_an_independent_edge_count(
    snapshots: dict[datetime, WindowSnapshot],
) -> None:
    expected = independent_edge_counts()
    assert {start: len(snap.edges) for start, snap in snapshots.items()} == expected
    # ts is the connection start: the first file holds records from 2024-04-18 23:59:44Z, so
    # 72 hourly files cover 73 hourly windows.
    assert len(snapshots) == 73
    assert min(snapshots) == datetime(2024, 4, 18, 23, tzinfo=UTC)
    assert max(snapshots) == datetime(2024, 4, 21, 23, tzinfo=UTC)


def test_windows_count_every_flow_once(snapshots: dict[datetime, WindowSnapshot]) -> None:
    assert sum(edge.flows for snap in snapshots.values() for edge in snap.edges) == 105_918
    for start, snap in snapshots.items():
        assert snap.window_end.timestamp() - start.timestamp() == HOUR
        for edge in snap.edges:
            assert start <= edge.first_seen < snap.window_end
            assert list(edge.conn_starts) == sorted(edge.conn_starts)
            assert len(edge.conn_starts) == min(edge.flows, 2048)


def test_sensor_is_external_and_nodes_cover_edges(snapshots: dict[datetime, WindowSnapshot]) -> None:
    for snap in snapshots.values():
        keys = {node.key for node in snap.nodes}
        assert keys == {edge.src for edge in snap.edges} | {edge.dst for edge in snap.edges}
        kinds = {node.key: node.kind for node in snap.nodes}
        assert kinds.get("64.225.56.201", "external") == "external"
        assert all(kinds[key] == "ip" for key in keys if key.startswith(("fe80:", "ff02:")))


def test_streamed_batches_build_the_same_snapshots(snapshots: dict[datetime, WindowSnapshot]) -> None:
    accumulator = SnapshotAccumulator(window_seconds=HOUR)
    for path in reversed(rita_hourly_files()):
        for batch in iter_batches(path, batch_rows=997):
            accumulator.add(batch.frame)
    assert accumulator.build() == snapshots
