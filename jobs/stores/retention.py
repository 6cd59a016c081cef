"""What retention deletes on disk: flow partitions past a tenant's retention and raw upload files."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from models.settings import get_settings

PARTITION_SECONDS = 300


def expire_flow_partitions(tenant_id: int, before: datetime) -> int:
    """Delete the tenant's flow partitions (5-minute folders `window=<epoch>`) that end before `before`."""
    root = get_settings().flow_dir / str(tenant_id)
    removed = 0
    for folder in sorted(root.glob("window=*")):
        epoch = folder.name.split("=", 1)[1]
        if epoch.isdigit() and int(epoch) + PARTITION_SECONDS <= before.timestamp():
            shutil.rmtree(folder)
            removed += 1
    return removed


def delete_upload_files(paths: Iterable[str]) -> int:
    """Delete raw upload files (already forgotten by their rows); a file already gone counts as deleted."""
    count = 0
    for path in paths:
        Path(path).unlink(missing_ok=True)
        count += 1
    return count
