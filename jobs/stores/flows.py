"""Flows on disk: edge, node and connection partials per tenant, 5-minute partition and upload.

    flows/{tenant}/window={epoch}/partial-{upload}-{format}-{batch}-edges.parquet    (keys of `jobs.stores.objects`)
    flows/{tenant}/window={epoch}/partial-{upload}-{format}-{batch}-nodes.parquet
    flows/{tenant}/window={epoch}/partial-{upload}-{format}-{batch}-conns.parquet

Ingestion aggregates each upload's flows once, batch by batch, into 5-minute partials
(`jobs.engines.snapshot.aggregate`: one row per partition and edge or node, sums, first/last seen, the earliest
connection starts).
Partitions are 5 minutes whatever the tenant's window (every allowed window is a multiple of
5 minutes), so changing the window size needs no re-parse: a snapshot build merges the partials
of the partitions inside its window, which is exactly what aggregating the raw flows gives. A late
file for a past window adds partials there and that window is rebuilt. Files are staged locally and appear
whole (a rename in a folder, one PUT in a bucket), so a reader never sees half a file; an upload's files are
replaced whole when it is ingested again.

The connection partials keep one row per flow for detection (`read_connections`), in CONNS_SCHEMA: zstd, no
statistics, `src_port` only for ICMP (its type; null otherwise, which halves what the column costs) and
`answered` resolved at ingest (`canonical_answered`: the parser's flag, else not rejected), so the action
need not be kept.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from jobs.engines.detect.answered import canonical_answered
from jobs.engines.flows.schema import UTC_US
from jobs.engines.snapshot.aggregate import EDGE_SCHEMA
from jobs.engines.snapshot.builder import SnapshotAccumulator
from jobs.stores import enrichment
from jobs.stores.keys import check_key, name_of, tenant_key
from jobs.stores.objects import get_store

PARTITION_SECONDS = 300
PARTS = ("edges", "nodes")
CONNS_SCHEMA: dict[str, pl.DataType] = {
    "ts_us": pl.Int64(), "duration_ms": pl.Int32(), "src_ip": pl.Utf8(), "src_port": pl.Int32(),
    "dst_ip": pl.Utf8(), "dst_port": pl.Int32(), "protocol": pl.Utf8(), "bytes": pl.Int64(),
    "orig_bytes": pl.Int64(), "answered": pl.Boolean(),
}
# What `read_connections` returns: the columns `jobs.engines.detect.frame.prepare` reads.
CONNECTION_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "ts_start": UTC_US, "ts_end": UTC_US, "src_ip": pl.Utf8(), "src_port": pl.Int32(), "dst_ip": pl.Utf8(),
    "dst_port": pl.Int32(), "protocol": pl.Utf8(), "bytes": pl.Int64(), "orig_bytes": pl.Int64(),
    "answered": pl.Boolean(), "action": pl.Utf8(),
}
_WINDOWED_CONNS: dict[str, pl.DataType] = {"window": pl.Int64(), **CONNS_SCHEMA}
ICMP_PROTOCOLS = ("icmp", "icmp6")
_INT32_MAX = 2**31 - 1


def _partition_keys(tenant_id: int, first: int, window_seconds: int, kind: str) -> list[str]:
    """The published `kind` partials of the partitions from `first` (epoch s) for `window_seconds`, in order."""
    store, prefix = get_store(), tenant_key("flows", tenant_id)
    keys: list[str] = []
    for epoch in range(first, first + window_seconds, PARTITION_SECONDS):
        keys.extend(store.glob(prefix, f"window={epoch}/partial-*-{kind}.parquet"))
    return keys


def align(moment: datetime, window_seconds: int) -> datetime:
    """The start of the window of `window_seconds` that holds `moment` (windows align to the epoch)."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=UTC)


class UploadWriter:
    """Stage one upload's partials batch by batch, then publish them all at once with `commit`."""

    def __init__(self, *, tenant_id: int, upload_id: int, fmt: str) -> None:
        self.tenant_id, self.upload_id, self.fmt = tenant_id, upload_id, fmt
        staging_name = f"upload-{upload_id}-{uuid.uuid4().hex[:8]}"
        self.staging = get_store().staging_dir(check_key(f"{tenant_key('flows', tenant_id)}/.staging/{staging_name}"))
        self.batches = 0
        self.staged: set[int] = set()
        # the distinct addresses' ASN, organisation and country (`jobs.stores.enrichment`), published with the rest
        self.enricher = enrichment.BatchEnricher()

    def add(self, frame: pl.DataFrame) -> None:
        """Aggregate a canonical frame into 5-minute partials and stage them, one edge, node and connection
        file per partition.

        Nothing is merged here: a snapshot build merges the partials of its window anyway, so each
        batch is aggregated once and memory holds one batch at a time.
        """
        if frame.height == 0:
            return
        accumulator = SnapshotAccumulator(window_seconds=PARTITION_SECONDS)
        accumulator.add(frame)
        edges, nodes = accumulator.partials()
        # the node partials hold the batch's distinct addresses (a few per partition), not one per flow
        self.enricher.add(nodes["ips"].explode())
        by_window = {"edges": edges.partition_by("window", as_dict=True),
                     "nodes": nodes.partition_by("window", as_dict=True)}
        for (epoch,), _ in by_window["edges"].items():
            folder = self.staging / f"window={int(epoch)}"
            folder.mkdir(parents=True, exist_ok=True)
            for part in PARTS:
                by_window[part][(epoch,)].write_parquet(
                    folder / f"partial-{self.upload_id}-{self.fmt}-{self.batches}-{part}.parquet",
                    compression="lz4", statistics=False,
                )
            self.staged.add(int(epoch))
        for (epoch,), rows in connection_rows(frame).partition_by("window", as_dict=True,
                                                                  include_key=False).items():
            folder = self.staging / f"window={int(epoch)}"
            folder.mkdir(parents=True, exist_ok=True)
            # zstd level 1: measured 18 % faster than the default level 3 and no larger on these columns
            rows.write_parquet(folder / f"partial-{self.upload_id}-{self.fmt}-{self.batches}-conns.parquet",
                               compression="zstd", compression_level=1, statistics=False)
            self.staged.add(int(epoch))
        self.batches += 1

    def commit(self) -> list[datetime]:
        """Replace this upload's published files with the staged ones; returns the partitions touched."""
        store, prefix = get_store(), tenant_key("flows", self.tenant_id)
        staged = sorted(self.staged)
        touched = set(staged)
        enrichment.publish(self.tenant_id, self.upload_id, self.enricher.write(self.staging, self.upload_id))
        # A build finds a partition's partials by their edge file: it goes last in, first out.
        for old in sorted(store.glob(prefix, f"window=*/partial-{self.upload_id}-*.parquet"), key=_edges_first):
            touched.add(int(old.split("/")[-2].split("=", 1)[1]))
            store.delete(old)
        for epoch in staged:
            files = sorted((self.staging / f"window={epoch}").glob("*.parquet"), key=_edges_first, reverse=True)
            for file in files:
                store.put_file(f"{prefix}/window={epoch}/{file.name}", file)
        self.discard()
        return [datetime.fromtimestamp(epoch, tz=UTC) for epoch in sorted(touched)]

    def discard(self) -> None:
        """Drop what was staged (a rejected file, a failed attempt)."""
        shutil.rmtree(self.staging, ignore_errors=True)


def _edges_first(path: str | Path) -> tuple[bool, str]:
    name = str(path)
    return (not name.endswith("-edges.parquet"), name)


def window_files(tenant_id: int, window_start: datetime, window_seconds: int) -> list[str]:
    """The keys of the published edge partials inside one window, in a stable order (see `nodes_file`)."""
    return _partition_keys(tenant_id, int(window_start.timestamp()), window_seconds, "edges")


def nodes_file(edges_file: str) -> str:
    """The key of the node partial published beside an edge partial."""
    return edges_file.removesuffix("-edges.parquet") + "-nodes.parquet"


def read_partials(files: Iterable[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(edges, nodes): the partials of the given edge keys and their node files, concatenated."""
    paths = list(files)
    if not paths:
        raise ValueError("no partial files to read")
    store = get_store()
    # One read per kind: polars reads the files side by side (2–3× faster than a read per file). The folder
    # names look like hive partitions (`window=…`), but the files hold their own `window` column; and the paths
    # are names, not patterns (the data dir may hold any character).
    try:
        edges = store.read_parquet(paths, hive_partitioning=False, glob=False)
    except (pl.exceptions.ColumnNotFoundError, pl.exceptions.SchemaError):
        # a window mixing partials from before `unanswered` existed: theirs is read as null (counted as 0)
        edges = store.read_parquet(paths, hive_partitioning=False, glob=False, schema=EDGE_SCHEMA,
                                   missing_columns="insert")
    nodes = store.read_parquet([nodes_file(path) for path in paths], hive_partitioning=False, glob=False)
    return edges, nodes


def formats_of(files: Iterable[str]) -> str:
    """The source formats behind a window's files, e.g. "hubble,zeek_tsv"."""
    return ",".join(sorted({name_of(f).split("-")[2] for f in files}))


def connection_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """A canonical frame as connection-partial rows (CONNS_SCHEMA) plus the `window` (epoch s) of each."""
    ts_us = pl.col("ts_start").dt.epoch("us")
    duration_us = (pl.col("ts_end") - pl.col("ts_start")).dt.total_microseconds()
    icmp = pl.col("protocol").is_in(ICMP_PROTOCOLS).fill_null(False)
    return frame.select(
        (ts_us // (PARTITION_SECONDS * 1_000_000) * PARTITION_SECONDS).alias("window"),
        ts_us.alias("ts_us"),
        # rounded to the millisecond; a connection of more than 24.8 days keeps the Int32 maximum
        ((duration_us + 500) // 1000).clip(upper_bound=_INT32_MAX).alias("duration_ms"),
        "src_ip", pl.when(icmp).then(pl.col("src_port")).alias("src_port"), "dst_ip", "dst_port", "protocol",
        "bytes", "orig_bytes", canonical_answered(frame),
    ).cast(_WINDOWED_CONNS)  # type: ignore[arg-type]


def connection_files(tenant_id: int, window_start: datetime, window_seconds: int) -> list[str]:
    """The keys of the published connection partials inside one window, partition by partition."""
    return _partition_keys(tenant_id, _window_epoch(window_start, window_seconds), window_seconds, "conns")


def read_connections(tenant_id: int, window_start: datetime, window_seconds: int) -> pl.DataFrame:
    """Every connection of the tenant that started inside the window, in CONNECTION_FRAME_SCHEMA, by start time:
    the `canonical` input of `jobs.engines.detect.frame.prepare`.

    `ts_end` is the start plus the kept milliseconds; `action` is null (`answered` already holds it). An
    empty window gives an empty frame of the same schema. ValueError when the window is not whole 5-minute
    partitions aligned to the epoch.
    """
    if isinstance(tenant_id, bool) or not isinstance(tenant_id, int) or tenant_id < 1:
        raise ValueError(f"tenant_id must be a positive integer, got {tenant_id!r}")
    files = connection_files(tenant_id, window_start, window_seconds)
    if not files:
        return pl.DataFrame(schema=CONNECTION_FRAME_SCHEMA)
    rows = get_store().read_parquet(files, hive_partitioning=False, glob=False, schema=CONNS_SCHEMA)
    start = pl.col("ts_us").cast(UTC_US)
    return rows.select(
        start.alias("ts_start"), (start + pl.duration(milliseconds=pl.col("duration_ms"))).alias("ts_end"),
        "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "bytes", "orig_bytes", "answered",
        pl.lit(None, pl.Utf8).alias("action"),
    ).sort("ts_start", maintain_order=True)


def _window_epoch(window_start: datetime, window_seconds: int) -> int:
    """The window's start in epoch seconds, checked: zone-aware, whole partitions, aligned to the epoch."""
    if window_start.tzinfo is None:
        raise ValueError(f"window_start must carry a time zone, got {window_start!r}")
    if isinstance(window_seconds, bool) or not isinstance(window_seconds, int) or window_seconds < PARTITION_SECONDS \
            or window_seconds % PARTITION_SECONDS:
        raise ValueError(f"window_seconds must be a positive multiple of {PARTITION_SECONDS}, got {window_seconds!r}")
    epoch = window_start.timestamp()
    if epoch % PARTITION_SECONDS:
        raise ValueError(f"{window_start.isoformat()} is not the start of a {PARTITION_SECONDS} s partition")
    return int(epoch)
