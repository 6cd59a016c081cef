"""Pure snapshot aggregation: canonical flow frames in, per-window nodes and edges out.

- Windows are aligned to epoch multiples of `window_seconds`; a flow belongs to the window of
  its ts_start (a long connection is counted where it started).
- Node identity: `namespace/name` when the source named the workload (kind "workload"), else
  the IP: "external" outside private/reserved ranges, "ip" inside. Classification runs once per
  distinct address. An IP node's name is the source's name for it (Hubble's `world`, `host`)
  or the IP itself.
- Edges aggregate by (src, dst, dst_port, protocol): bytes, packets, flows, rejected
  (action "reject"), first_seen (earliest start), last_seen (latest end, or start when the
  source has no end), conn_starts (earliest MAX_CONN_STARTS starts, sorted, epoch seconds).
- Output is sorted (nodes by key; edges by src, dst, dst_port with None first, protocol), so
  building a window twice, in one pass or batch by batch, gives identical snapshots.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final

import polars as pl

from jobs.flows.addresses import address_info
from jobs.snapshot.aggregate import detached, edge_partial, merge_edges, merge_nodes, node_partial
from jobs.snapshot.types import EdgeRecord, NodeKind, NodeRecord

DEFAULT_WINDOW_SECONDS: Final = 3600
# Merge pending partials once they hold this many rows, to bound memory while streaming.
COMPACT_ROWS: Final = 2_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WindowSnapshot:
    """The service graph of one aligned window."""

    window_start: datetime
    window_end: datetime
    nodes: list[NodeRecord]
    edges: list[EdgeRecord]


class SnapshotAccumulator:
    """Aggregates canonical frames batch by batch; `build` returns the snapshot of each window."""

    def __init__(self, *, window_seconds: int = DEFAULT_WINDOW_SECONDS) -> None:
        if isinstance(window_seconds, bool) or not isinstance(window_seconds, int) or window_seconds < 1:
            raise ValueError(f"window_seconds must be a positive integer, got {window_seconds!r}")
        self.window_seconds = window_seconds
        self._edges: list[pl.DataFrame] = []
        self._nodes: list[pl.DataFrame] = []
        self._pending_rows = 0

    def add(self, frame: pl.DataFrame) -> None:
        """Fold one canonical frame (any number of windows) into the aggregate."""
        if frame.height == 0:
            return
        edges = edge_partial(frame, window_seconds=self.window_seconds)
        nodes = node_partial(frame, window_seconds=self.window_seconds, edges=edges)
        self._edges.append(detached(edges))
        self._nodes.append(detached(nodes))
        self._pending_rows += self._edges[-1].height + self._nodes[-1].height
        if self._pending_rows > COMPACT_ROWS:
            self._compact()

    def _compact(self) -> None:
        self._edges = [merge_edges(self._edges)]
        self._nodes = [merge_nodes(self._nodes)]
        self._pending_rows = self._edges[0].height + self._nodes[0].height

    def window_starts(self) -> list[datetime]:
        """Start of every window that has flows, ascending."""
        self._compact()
        return [_at(seconds * 1_000_000) for seconds in sorted(set(self._edges[0]["window"].to_list()))]

    def build(self) -> dict[datetime, WindowSnapshot]:
        """Snapshots of all windows seen so far, keyed (and ordered) by window start."""
        self._compact()
        edges = self._edges[0].partition_by("window", as_dict=True)
        nodes = self._nodes[0].partition_by("window", as_dict=True)
        snapshots = [self._snapshot(int(window), edges[(window,)], nodes[(window,)]) for (window,) in sorted(edges)]
        return {snapshot.window_start: snapshot for snapshot in snapshots}

    def build_window(self, window_start: datetime) -> WindowSnapshot:
        """The snapshot of the window starting at `window_start` (empty when it saw no flows)."""
        start = window_start.astimezone(UTC)
        seconds = int(start.timestamp())
        if seconds % self.window_seconds or start.microsecond:
            raise ValueError(f"{window_start} is not aligned to {self.window_seconds}-second windows")
        self._compact()
        edges = self._edges[0].filter(pl.col("window") == seconds)
        return self._snapshot(seconds, edges, self._nodes[0].filter(pl.col("window") == seconds))

    def _snapshot(self, window: int, edges: pl.DataFrame, nodes: pl.DataFrame) -> WindowSnapshot:
        start = _at(window * 1_000_000)
        end = start + timedelta(seconds=self.window_seconds)
        return WindowSnapshot(start, end, _node_records(nodes), _edge_records(edges))


def build_snapshots(
    frames: pl.DataFrame | Iterable[pl.DataFrame], *, window_seconds: int = DEFAULT_WINDOW_SECONDS
) -> dict[datetime, WindowSnapshot]:
    """Snapshots of every window present in `frames` (one canonical frame or an iterable)."""
    accumulator = SnapshotAccumulator(window_seconds=window_seconds)
    for frame in [frames] if isinstance(frames, pl.DataFrame) else frames:
        accumulator.add(frame)
    return accumulator.build()


def _at(microseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=microseconds)


def _edge_records(edges: pl.DataFrame) -> list[EdgeRecord]:
    # Whole seconds plus the fraction rounds like Python's us / 1e6; polars' division does not.
    seconds = (pl.element() // 1_000_000).cast(pl.Float64)
    fraction = (pl.element() % 1_000_000).cast(pl.Float64) / 1_000_000
    ordered = edges.sort(["src", "dst", "dst_port", "protocol"], nulls_last=False).with_columns(
        pl.col("starts").list.eval(seconds + fraction)
    )
    columns = [ordered[name].to_list() for name in (
        "src", "dst", "dst_port", "protocol", "bytes", "packets", "flows", "rejected",
        "first_us", "last_us", "starts",
    )]
    at = _at
    # Positional arguments: record construction is the cost that remains per edge.
    return [
        EdgeRecord(src, dst, port, protocol, size, packets, flows, rejected, at(first), at(last), tuple(starts))
        for src, dst, port, protocol, size, packets, flows, rejected, first, last, starts in zip(
            *columns, strict=True
        )
    ]


def _node_records(nodes: pl.DataFrame) -> list[NodeRecord]:
    ordered = nodes.sort("key")
    return [
        NodeRecord(
            key=key,
            name=name or key,
            kind="workload" if workload else _address_kind(key),
            namespace=namespace,
            labels=dict(_labels(labels)),
            ips=tuple(ips),
        )
        for key, name, namespace, labels, workload, ips in ordered.select(
            "key", "name", "namespace", "labels", "workload", "ips"
        ).iter_rows()
    ]


def _address_kind(key: str) -> NodeKind:
    info = address_info(key)
    return "external" if info is not None and info.external else "ip"


@lru_cache(maxsize=4096)
def _labels(text: str | None) -> tuple[tuple[str, str], ...]:
    """Parsed labels, cached: a few distinct label sets repeat across many nodes."""
    if not text:
        return ()
    parsed = json.loads(text)
    return tuple(sorted((str(k), str(v)) for k, v in parsed.items())) if isinstance(parsed, dict) else ()
