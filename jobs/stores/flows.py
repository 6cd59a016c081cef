"""Aggregated flows on disk: edge and node partials per tenant, 5-minute partition and upload.

    {flow_dir}/{tenant}/window={epoch}/partial-{upload}-{format}-{batch}-edges.parquet
    {flow_dir}/{tenant}/window={epoch}/partial-{upload}-{format}-{batch}-nodes.parquet

Ingestion aggregates each upload's flows once, batch by batch, into 5-minute partials
(`jobs.engines.snapshot.aggregate`: one row per partition and edge or node, sums, first/last seen, the earliest
connection starts).
Partitions are 5 minutes whatever the tenant's window (every allowed window is a multiple of
5 minutes), so changing the window size needs no re-parse: a snapshot build merges the partials
of the partitions inside its window, which is exactly what aggregating the raw flows gives. A late
file for a past window adds partials there and that window is rebuilt. Files appear by rename, so a
reader never sees half a file; an upload's files are replaced whole when it is ingested again.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from jobs.engines.snapshot.builder import SnapshotAccumulator
from models.settings import get_settings

PARTITION_SECONDS = 300
PARTS = ("edges", "nodes")


def _partition_dir(tenant_id: int, epoch: int) -> Path:
    return get_settings().flow_dir / str(tenant_id) / f"window={epoch}"


def align(moment: datetime, window_seconds: int) -> datetime:
    """The start of the window of `window_seconds` that holds `moment` (windows align to the epoch)."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=UTC)


class UploadWriter:
    """Stage one upload's partials batch by batch, then publish them all at once with `commit`."""

    def __init__(self, *, tenant_id: int, upload_id: int, fmt: str) -> None:
        self.tenant_id, self.upload_id, self.fmt = tenant_id, upload_id, fmt
        staging_name = f"upload-{upload_id}-{uuid.uuid4().hex[:8]}"
        self.staging = get_settings().flow_dir / str(tenant_id) / ".staging" / staging_name
        self.batches = 0
        self.staged: set[int] = set()

    def add(self, frame: pl.DataFrame) -> None:
        """Aggregate a canonical frame into 5-minute partials and stage them, one file pair per partition.

        Nothing is merged here: a snapshot build merges the partials of its window anyway, so each
        batch is aggregated once and memory holds one batch at a time.
        """
        if frame.height == 0:
            return
        accumulator = SnapshotAccumulator(window_seconds=PARTITION_SECONDS)
        accumulator.add(frame)
        edges, nodes = accumulator.partials()
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
        self.batches += 1

    def commit(self) -> list[datetime]:
        """Replace this upload's published files with the staged ones; returns the partitions touched."""
        root = get_settings().flow_dir / str(self.tenant_id)
        staged = sorted(self.staged)
        touched = set(staged)
        # A build finds a partition's partials by their edge file: it goes last in, first out.
        for old in sorted(root.glob(f"window=*/partial-{self.upload_id}-*.parquet"), key=_edges_first):
            touched.add(int(old.parent.name.split("=", 1)[1]))
            old.unlink()
        for epoch in staged:
            target = root / f"window={epoch}"
            target.mkdir(parents=True, exist_ok=True)
            for file in sorted((self.staging / f"window={epoch}").glob("*.parquet"), key=_edges_first, reverse=True):
                file.rename(target / file.name)
        self.discard()
        return [datetime.fromtimestamp(epoch, tz=UTC) for epoch in sorted(touched)]

    def discard(self) -> None:
        """Drop what was staged (a rejected file, a failed attempt)."""
        shutil.rmtree(self.staging, ignore_errors=True)


def _edges_first(path: Path) -> tuple[bool, str]:
    return (not path.name.endswith("-edges.parquet"), str(path))


def window_files(tenant_id: int, window_start: datetime, window_seconds: int) -> list[Path]:
    """The published edge partials inside one window, in a stable order (see `nodes_file`)."""
    first = int(window_start.timestamp())
    files: list[Path] = []
    for epoch in range(first, first + window_seconds, PARTITION_SECONDS):
        files.extend(sorted(_partition_dir(tenant_id, epoch).glob("partial-*-edges.parquet")))
    return files


def nodes_file(edges_file: Path) -> Path:
    """The node partial published beside an edge partial."""
    return edges_file.with_name(edges_file.name.removesuffix("-edges.parquet") + "-nodes.parquet")


def read_partials(files: Iterable[Path]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(edges, nodes): the partials of the given edge files and their node files, concatenated."""
    paths = list(files)
    if not paths:
        raise ValueError("no partial files to read")
    # One read per kind: polars reads the files side by side (2–3× faster than a read per file). The folder
    # names look like hive partitions (`window=…`), but the files hold their own `window` column; and the paths
    # are names, not patterns (the data dir may hold any character).
    edges = pl.read_parquet(paths, hive_partitioning=False, glob=False)
    nodes = pl.read_parquet([nodes_file(path) for path in paths], hive_partitioning=False, glob=False)
    return edges, nodes


def formats_of(files: Iterable[Path]) -> str:
    """The source formats behind a window's files, e.g. "hubble,zeek_tsv"."""
    return ",".join(sorted({f.name.split("-")[2] for f in files}))
