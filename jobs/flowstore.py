"""Parsed flows on disk: Parquet files per tenant, 5-minute partition and upload.

    {flow_dir}/{tenant}/window={epoch}/upload-{id}-{format}-{part}.parquet

Partitions are 5 minutes whatever the tenant's window (every allowed window is a multiple of
5 minutes), so changing the window size needs no rewrite. A snapshot build reads the partitions
inside its window; a late file for a past window adds files there and that window is rebuilt.
Files appear by rename, so a reader never sees half a file; an upload's files are replaced whole
when it is ingested again.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from models.settings import get_settings

PARTITION_SECONDS = 300


def _partition_dir(tenant_id: int, epoch: int) -> Path:
    return get_settings().flow_dir / str(tenant_id) / f"window={epoch}"


def align(moment: datetime, window_seconds: int) -> datetime:
    """The start of the window of `window_seconds` that holds `moment` (windows align to the epoch)."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=UTC)


class UploadWriter:
    """Stage one upload's flows per window, then publish them all at once with `commit`."""

    def __init__(self, *, tenant_id: int, upload_id: int, fmt: str) -> None:
        self.tenant_id, self.upload_id, self.fmt = tenant_id, upload_id, fmt
        staging_name = f"upload-{upload_id}-{uuid.uuid4().hex[:8]}"
        self.staging = get_settings().flow_dir / str(tenant_id) / ".staging" / staging_name
        self.parts: dict[int, int] = {}

    def add(self, frame: pl.DataFrame) -> None:
        """Split a canonical frame by partition and stage one Parquet part per partition."""
        if frame.height == 0:
            return
        keyed = frame.with_columns(
            (pl.col("ts_start").dt.epoch("s") // PARTITION_SECONDS * PARTITION_SECONDS).alias("_window")
        )
        for (epoch,), part in keyed.partition_by("_window", as_dict=True).items():
            folder = self.staging / f"window={int(epoch)}"
            folder.mkdir(parents=True, exist_ok=True)
            index = self.parts.get(int(epoch), 0)
            self.parts[int(epoch)] = index + 1
            part.drop("_window").write_parquet(folder / f"upload-{self.upload_id}-{self.fmt}-{index}.parquet")

    def commit(self) -> list[datetime]:
        """Replace this upload's published files with the staged ones; returns the partitions touched."""
        root = get_settings().flow_dir / str(self.tenant_id)
        touched = set(self.parts)
        for old in root.glob(f"window=*/upload-{self.upload_id}-*.parquet"):
            touched.add(int(old.parent.name.split("=", 1)[1]))
            old.unlink()
        for epoch in self.parts:
            target = root / f"window={epoch}"
            target.mkdir(parents=True, exist_ok=True)
            for staged in (self.staging / f"window={epoch}").glob("*.parquet"):
                staged.rename(target / staged.name)
        self.discard()
        return [datetime.fromtimestamp(epoch, tz=UTC) for epoch in sorted(touched)]

    def discard(self) -> None:
        """Drop what was staged (a rejected file, a failed attempt)."""
        shutil.rmtree(self.staging, ignore_errors=True)


def window_files(tenant_id: int, window_start: datetime, window_seconds: int) -> list[Path]:
    """The published Parquet files inside one window, in a stable order."""
    first = int(window_start.timestamp())
    files: list[Path] = []
    for epoch in range(first, first + window_seconds, PARTITION_SECONDS):
        files.extend(sorted(_partition_dir(tenant_id, epoch).glob("upload-*.parquet")))
    return files


def formats_of(files: Iterable[Path]) -> str:
    """The source formats behind a window's files, e.g. "hubble,zeek_tsv"."""
    return ",".join(sorted({f.name.split("-")[2] for f in files}))
