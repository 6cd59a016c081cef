"""Engine snapshots on disk: a window's full nodes and edges, connection start times included.

    flows/{tenant}/snapshots/{window_epoch}.parquet    (a key of `jobs.stores.objects`)

The `edge` table leaves connection start times and the unanswered counts out (COPY speed; nothing in SQL
reads them); beacon detection needs the starts and drift the unanswered counts, so
`build_snapshot` also keeps this sidecar, which the drift job reads. Nodes and edges share one
file (column `record`), so one rename (one PUT) replaces both at once: a reader sees the old window or the new
one, never a mix. The window's bounds are in the file's metadata; a file with other bounds (the
tenant changed its window size since) counts as absent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jobs.engines.drift import Snapshot
from jobs.engines.snapshot.builder import EDGE_FRAME_SCHEMA, NODE_FRAME_SCHEMA
from jobs.engines.snapshot.types import EdgeRecord, NodeKind, NodeRecord
from jobs.stores.arrow_times import utc_datetimes
from jobs.stores.keys import tenant_key
from jobs.stores.objects import get_store

FORMAT_VERSION = "1"
Fingerprint = tuple[int, int, int]
SCHEMA = pa.schema([
    ("record", pa.string()), ("key", pa.string()), ("name", pa.string()), ("kind", pa.string()),
    ("namespace", pa.string()), ("labels", pa.string()), ("ips", pa.list_(pa.string())),
    ("src", pa.string()), ("dst", pa.string()), ("dst_port", pa.int32()), ("protocol", pa.string()),
    ("bytes", pa.int64()), ("packets", pa.int64()), ("flows", pa.int64()), ("rejected", pa.int64()),
    ("first_seen", pa.timestamp("us", tz="UTC")), ("last_seen", pa.timestamp("us", tz="UTC")),
    ("conn_starts", pa.list_(pa.float64())), ("unanswered", pa.int64()),
])
_NODE_FIELDS = ("key", "name", "kind", "namespace", "labels", "ips")
_EDGE_FIELDS = ("src", "dst", "dst_port", "protocol", "bytes", "packets", "flows", "rejected",
                "first_seen", "last_seen", "conn_starts", "unanswered")


def _epoch(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def sidecar_key(tenant_id: int, window_start: datetime) -> str:
    """The key of one window's engine snapshot."""
    return tenant_key("flows", tenant_id, "snapshots", f"{int(window_start.timestamp())}.parquet")


def sidecar_path(tenant_id: int, window_start: datetime) -> Path:
    """Where the engine snapshot of one window lives in a local store (ValueError for a remote one)."""
    path = get_store().local_path(sidecar_key(tenant_id, window_start))
    if path is None:
        raise ValueError("the store is not a local folder: use sidecar_key")
    return path


def frames_of_records(nodes: Sequence[NodeRecord], edges: Sequence[EdgeRecord]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records as the columns `build_snapshot` writes (NODE_FRAME_SCHEMA, EDGE_FRAME_SCHEMA)."""
    node_frame = pl.DataFrame({
        "key": [x.key for x in nodes], "name": [x.name for x in nodes], "kind": [x.kind for x in nodes],
        "namespace": [x.namespace for x in nodes],
        "labels": [json.dumps(dict(x.labels), sort_keys=True) for x in nodes], "ips": [list(x.ips) for x in nodes],
    }, schema=NODE_FRAME_SCHEMA)
    values: dict[str, list[Any]] = {name: [getattr(e, name) for e in edges] for name in _EDGE_FIELDS}
    values["conn_starts"] = [list(v) for v in values["conn_starts"]]
    return node_frame, pl.DataFrame(values, schema=EDGE_FRAME_SCHEMA)


def write_engine_snapshot(
    tenant_id: int, window_start: datetime, window_end: datetime,
    nodes: Sequence[NodeRecord], edges: Sequence[EdgeRecord],
) -> bool:
    """`write_engine_frames` for records."""
    return write_engine_frames(tenant_id, window_start, window_end, *frames_of_records(nodes, edges))


def write_engine_frames(
    tenant_id: int, window_start: datetime, window_end: datetime, nodes: pl.DataFrame, edges: pl.DataFrame
) -> bool:
    """Write the window's sidecar atomically (temp file + rename); False when it already held the same.

    `nodes`/`edges` hold the columns of `jobs.engines.snapshot.builder.WindowFrames`.
    """
    return stage_engine_frames(tenant_id, window_start, window_end, nodes, edges).publish()


@dataclass(frozen=True)
class StagedSidecar:
    """A window's sidecar encoded into a local temporary file (beside its final path in a local store), not yet
    visible to readers."""

    temp: Path
    key: str

    def publish(self) -> bool:
        """Put it in place (rename, or one PUT); False when the object there already held the same bytes (then
        it is kept, so its fingerprint and the baselines cached on it stay valid)."""
        store, temp = get_store(), self.temp
        held = store.head(self.key)
        if held is not None and held.size == temp.stat().st_size and store.get_bytes(self.key) == temp.read_bytes():
            temp.unlink()
            return False
        store.put_file(self.key, temp)
        return True

    def discard(self) -> None:
        """Drop it (the rows it goes with were not saved)."""
        self.temp.unlink(missing_ok=True)


def stage_engine_frames(
    tenant_id: int, window_start: datetime, window_end: datetime, nodes: pl.DataFrame, edges: pl.DataFrame
) -> StagedSidecar:
    """Encode the window's sidecar (the slow part of writing it) without publishing it.

    `build_snapshot` encodes while PostgreSQL takes the rows, and publishes once they are committed.
    """
    key = sidecar_key(tenant_id, window_start)
    folder = get_store().staging_dir(tenant_key("flows", tenant_id, "snapshots"))
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {"window_start": _epoch(window_start), "window_end": _epoch(window_end), "format": FORMAT_VERSION}
    rows = pl.concat([
        nodes.select(_NODE_FIELDS).with_columns(record=pl.lit("node")),
        edges.select(_EDGE_FIELDS).with_columns(record=pl.lit("edge")),
    ], how="diagonal")
    table = rows.select(SCHEMA.names).to_arrow().cast(SCHEMA).replace_schema_metadata(metadata)
    temp = folder / f".{int(window_start.timestamp())}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        pq.write_table(table, temp, compression="zstd")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return StagedSidecar(temp, key)


def sidecar_fingerprint(tenant_id: int, window_start: datetime) -> Fingerprint | None:
    """(inode, size, mtime) of the window's sidecar (in a bucket: its ETag's checksum, size, modification time):
    changes whenever the file is replaced."""
    held = get_store().head(sidecar_key(tenant_id, window_start))
    return None if held is None else held.version


def load_engine_snapshot(tenant_id: int, window_start: datetime, window_end: datetime) -> Snapshot | None:
    """The window's nodes and edges as the drift engine reads them; None without a matching sidecar."""
    try:
        table = get_store().read_table(sidecar_key(tenant_id, window_start))
    except FileNotFoundError:
        return None
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    if meta.get("window_end") != _epoch(window_end) or meta.get("format") != FORMAT_VERSION:
        return None
    nodes = table.filter(pc.equal(table["record"], "node")).select(list(_NODE_FIELDS)).to_pydict()
    if "unanswered" not in table.schema.names:  # a sidecar written before the column existed
        table = table.append_column("unanswered", pa.nulls(table.num_rows, pa.int64()))
    edge_table = table.filter(pc.equal(table["record"], "edge")).select(list(_EDGE_FIELDS))
    # zone-aware timestamps through epoch micros: pyarrow's own conversion costs seconds per 100k values
    edges = {name: utc_datetimes(edge_table[name]) if name in ("first_seen", "last_seen")
             else edge_table[name].to_pylist() for name in _EDGE_FIELDS}
    node_records = tuple(
        NodeRecord(key, name, cast(NodeKind, kind), namespace, json.loads(labels), tuple(ips))
        for key, name, kind, namespace, labels, ips in zip(*(nodes[f] for f in _NODE_FIELDS), strict=True)
    )
    edge_records = tuple(
        EdgeRecord(src, dst, port, protocol, size, packets, flows, rejected, first, last, tuple(starts), missed or 0)
        for src, dst, port, protocol, size, packets, flows, rejected, first, last, starts, missed in zip(
            *(edges[f] for f in _EDGE_FIELDS), strict=True
        )
    )
    return Snapshot(window_start, window_end, node_records, edge_records)
