"""Pure snapshot aggregation: canonical flow frames in, per-window nodes and edges out.

- Windows are aligned to epoch multiples of `window_seconds`; a flow belongs to the window of
  its ts_start (a long connection is counted where it started).
- Node identity: `namespace/name` when the source named the workload (kind "workload"), else
  the IP: "external" outside private/reserved ranges, "ip" inside. Classification runs once per
  distinct address. An IP node's name is the source's name for it (Hubble's `world`, `host`)
  or the IP itself.
- Edges aggregate by (src, dst, dst_port, protocol): bytes, packets, flows, rejected
  (action "reject"), first_seen (earliest start), last_seen (latest end, or start when the
  source has no end), conn_starts (earliest MAX_CONN_STARTS starts, sorted, epoch seconds),
  unanswered (flows nobody answered).
- Output is sorted (nodes by key; edges by src, dst, dst_port with None first, protocol), so
  building a window twice, in one pass or batch by batch, gives identical snapshots.

Two outputs of the same aggregate: `build_frames`/`build_window_frames` give columnar
`WindowFrames` (what the product persists: COPY and the engine sidecar, no Python object per
edge); `build`/`build_window` give `WindowSnapshot` records for the pure engines and tests.
Partials already aggregated elsewhere (the per-partition files of `jobs.stores.flows`) are folded in
with `add_partials`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final

import polars as pl

from jobs.engines.flows.addresses import address_info
from jobs.engines.flows.schema import UTC_US
from jobs.engines.snapshot.aggregate import (
    EDGE_SCHEMA,
    NODE_SCHEMA,
    detached,
    edge_partial,
    merge_edges,
    merge_nodes,
    node_partial,
)
from jobs.engines.snapshot.types import EdgeRecord, NodeKind, NodeRecord

DEFAULT_WINDOW_SECONDS: Final = 3600
# Merge pending partials once they hold this many rows, to bound memory while streaming.
COMPACT_ROWS: Final = 2_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Columns of WindowFrames, in the order the `node`/`edge` tables and the engine sidecar take them.
NODE_FRAME_SCHEMA: Final[dict[str, pl.DataType]] = {
    "key": pl.Utf8(), "name": pl.Utf8(), "kind": pl.Utf8(), "namespace": pl.Utf8(), "labels": pl.Utf8(),
    "ips": pl.List(pl.Utf8()),
}
EDGE_FRAME_SCHEMA: Final[dict[str, pl.DataType]] = {
    "src": pl.Utf8(), "dst": pl.Utf8(), "dst_port": pl.Int32(), "protocol": pl.Utf8(), "bytes": pl.Int64(),
    "packets": pl.Int64(), "flows": pl.Int64(), "rejected": pl.Int64(), "first_seen": UTC_US, "last_seen": UTC_US,
    "conn_starts": pl.List(pl.Float64()), "unanswered": pl.Int64(),
}
EDGE_ORDER: Final = ["src", "dst", "dst_port", "protocol"]


@dataclass(frozen=True, slots=True)
class WindowSnapshot:
    """The service graph of one aligned window."""

    window_start: datetime
    window_end: datetime
    nodes: list[NodeRecord]
    edges: list[EdgeRecord]


@dataclass(frozen=True, slots=True)
class WindowFrames:
    """The service graph of one aligned window as columns (NODE_FRAME_SCHEMA, EDGE_FRAME_SCHEMA).

    Nodes are sorted by key, edges by (src, dst, dst_port with None first, protocol); `labels` is
    the node's labels as JSON text with sorted keys (`{}` when none), `conn_starts` epoch seconds.
    """

    window_start: datetime
    window_end: datetime
    nodes: pl.DataFrame
    edges: pl.DataFrame


class SnapshotAccumulator:
    """Aggregates canonical frames batch by batch; `build` returns the snapshot of each window."""

    def __init__(self, *, window_seconds: int = DEFAULT_WINDOW_SECONDS) -> None:
        if isinstance(window_seconds, bool) or not isinstance(window_seconds, int) or window_seconds < 1:
            raise ValueError(f"window_seconds must be a positive integer, got {window_seconds!r}")
        self.window_seconds = window_seconds
        self._edges: list[pl.DataFrame] = []
        self._nodes: list[pl.DataFrame] = []
        self._pending_rows = 0
        self._regroup = False

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

    def add_partials(self, edges: pl.DataFrame, nodes: pl.DataFrame) -> None:
        """Fold partials made by another accumulator (EDGE_SCHEMA/NODE_SCHEMA) of a window size that
        divides this one's, e.g. the 5-minute partials stored at ingestion."""
        if edges.height == 0 and nodes.height == 0:
            return
        realign = (pl.col("window") // self.window_seconds * self.window_seconds).alias("window")
        # partials written before `unanswered` existed count none
        unanswered = pl.col("unanswered").fill_null(0) if "unanswered" in edges.columns else pl.lit(0, pl.Int64)
        edges = edges.with_columns(unanswered.alias("unanswered")).select(list(EDGE_SCHEMA))
        self._edges.append(edges.cast(EDGE_SCHEMA).with_columns(realign))  # type: ignore[arg-type]
        self._nodes.append(nodes.cast(NODE_SCHEMA).with_columns(realign))  # type: ignore[arg-type]
        self._regroup = True
        self._pending_rows += edges.height + nodes.height
        if self._pending_rows > COMPACT_ROWS:
            self._compact()

    def partials(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The merged (edges, nodes) partials, one row per (window, key): what `add_partials` takes."""
        self._compact()
        return self._edges[0], self._nodes[0]

    def _compact(self) -> None:
        self._edges = [merge_edges(self._edges, regroup=self._regroup)]
        self._nodes = [merge_nodes(self._nodes, regroup=self._regroup)]
        self._regroup = False
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
        seconds = self._aligned(window_start)
        self._compact()
        edges = self._edges[0].filter(pl.col("window") == seconds)
        return self._snapshot(seconds, edges, self._nodes[0].filter(pl.col("window") == seconds))

    def build_frames(self) -> dict[datetime, WindowFrames]:
        """Like `build`, as columns: the snapshots of all windows seen so far.

        All windows are converted in one pass (one sort, address kinds looked up once), then split.
        """
        self._compact()
        edges = edge_frame(self._edges[0], by_window=True).partition_by(
            "window", as_dict=True, include_key=False, maintain_order=True
        )
        nodes = node_frame(self._nodes[0], by_window=True).partition_by(
            "window", as_dict=True, include_key=False, maintain_order=True
        )
        frames = [
            WindowFrames(*self._bounds(int(window)), nodes[(window,)], edges[(window,)]) for (window,) in sorted(edges)
        ]
        return {frame.window_start: frame for frame in frames}

    def build_window_frames(self, window_start: datetime) -> WindowFrames:
        """Like `build_window`, as columns."""
        seconds = self._aligned(window_start)
        self._compact()
        edges = self._edges[0].filter(pl.col("window") == seconds)
        return self._frames(seconds, edges, self._nodes[0].filter(pl.col("window") == seconds))

    def _aligned(self, window_start: datetime) -> int:
        start = window_start.astimezone(UTC)
        seconds = int(start.timestamp())
        if seconds % self.window_seconds or start.microsecond:
            raise ValueError(f"{window_start} is not aligned to {self.window_seconds}-second windows")
        return seconds

    def _bounds(self, window: int) -> tuple[datetime, datetime]:
        start = _at(window * 1_000_000)
        return start, start + timedelta(seconds=self.window_seconds)

    def _snapshot(self, window: int, edges: pl.DataFrame, nodes: pl.DataFrame) -> WindowSnapshot:
        return WindowSnapshot(*self._bounds(window), _node_records(nodes), _edge_records(edges))

    def _frames(self, window: int, edges: pl.DataFrame, nodes: pl.DataFrame) -> WindowFrames:
        return WindowFrames(*self._bounds(window), node_frame(nodes), edge_frame(edges))


def build_snapshots(
    frames: pl.DataFrame | Iterable[pl.DataFrame], *, window_seconds: int = DEFAULT_WINDOW_SECONDS
) -> dict[datetime, WindowSnapshot]:
    """Snapshots of every window present in `frames` (one canonical frame or an iterable)."""
    accumulator = SnapshotAccumulator(window_seconds=window_seconds)
    for frame in [frames] if isinstance(frames, pl.DataFrame) else frames:
        accumulator.add(frame)
    return accumulator.build()


def build_frames(
    frames: pl.DataFrame | Iterable[pl.DataFrame], *, window_seconds: int = DEFAULT_WINDOW_SECONDS
) -> dict[datetime, WindowFrames]:
    """Like `build_snapshots`, as columns."""
    accumulator = SnapshotAccumulator(window_seconds=window_seconds)
    for frame in [frames] if isinstance(frames, pl.DataFrame) else frames:
        accumulator.add(frame)
    return accumulator.build_frames()


def _at(microseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=microseconds)


def _epoch_seconds() -> pl.Expr:
    # Whole seconds plus the fraction rounds like Python's us / 1e6; polars' division does not.
    seconds = (pl.element() // 1_000_000).cast(pl.Float64)
    fraction = (pl.element() % 1_000_000).cast(pl.Float64) / 1_000_000
    return seconds + fraction


def edge_frame(edges: pl.DataFrame, *, by_window: bool = False) -> pl.DataFrame:
    """An edge partial as EDGE_FRAME_SCHEMA columns, sorted; `by_window` keeps and sorts by `window` first
    (many windows at once)."""
    window = ["window"] if by_window else []
    return edges.lazy().sort([*window, *EDGE_ORDER], nulls_last=False).select(
        *window, *EDGE_ORDER, "bytes", "packets", "flows", "rejected",
        pl.col("first_us").cast(UTC_US).alias("first_seen"), pl.col("last_us").cast(UTC_US).alias("last_seen"),
        pl.col("starts").list.eval(_epoch_seconds()).alias("conn_starts"), "unanswered",
    ).collect().cast(EDGE_FRAME_SCHEMA)  # type: ignore[arg-type]


def node_frame(nodes: pl.DataFrame, *, by_window: bool = False) -> pl.DataFrame:
    """A node partial as NODE_FRAME_SCHEMA columns, sorted by key; `by_window` as for `edge_frame`.

    Kinds and label texts are computed in Python once per distinct address or label set.
    """
    window = ["window"] if by_window else []
    ordered = nodes.sort([*window, "key"])
    addresses = ordered.filter(~pl.col("workload"))["key"].unique().to_list()
    kinds = {key: _address_kind(key) for key in addresses}
    texts = {text: _labels_text(text) for text in ordered["labels"].drop_nulls().unique().to_list()}
    name = pl.col("name")
    return ordered.select(
        *window,
        "key",
        pl.when(name.is_not_null() & (name != "")).then(name).otherwise(pl.col("key")).alias("name"),
        pl.when("workload").then(pl.lit("workload"))
        .otherwise(pl.col("key").replace_strict(kinds, default="ip", return_dtype=pl.Utf8)).alias("kind"),
        "namespace",
        pl.col("labels").replace_strict(texts, default="{}", return_dtype=pl.Utf8).alias("labels"),
        "ips",
    ).cast(NODE_FRAME_SCHEMA)  # type: ignore[arg-type]


def _labels_text(text: str | None) -> str:
    """Label JSON as stored: sorted keys, string values, `{}` when none."""
    return json.dumps(dict(_labels(text)))


def _edge_records(edges: pl.DataFrame) -> list[EdgeRecord]:
    ordered = edges.sort(EDGE_ORDER, nulls_last=False).with_columns(pl.col("starts").list.eval(_epoch_seconds()))
    columns = [ordered[name].to_list() for name in (
        "src", "dst", "dst_port", "protocol", "bytes", "packets", "flows", "rejected",
        "first_us", "last_us", "starts", "unanswered",
    )]
    at = _at
    # Positional arguments: record construction is the cost that remains per edge.
    return [
        EdgeRecord(src, dst, port, protocol, size, packets, flows, rejected, at(first), at(last), tuple(starts), missed)
        for src, dst, port, protocol, size, packets, flows, rejected, first, last, starts, missed in zip(
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
