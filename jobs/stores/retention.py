"""What retention deletes in the store: flow partitions past a tenant's retention and raw upload files."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from jobs.stores.keys import tenant_key
from jobs.stores.objects import delete_refs, get_store

PARTITION_SECONDS = 300


def expire_flow_partitions(tenant_id: int, before: datetime) -> int:
    """Delete the tenant's flow partitions (5-minute prefixes `window=<epoch>`) that end before `before`."""
    store, root = get_store(), tenant_key("flows", tenant_id)
    removed = 0
    for name in store.children(root):
        epoch = name.split("=", 1)[1] if name.startswith("window=") else ""
        if epoch.isdigit() and int(epoch) + PARTITION_SECONDS <= before.timestamp():
            store.delete_prefix(f"{root}/{name}")
            removed += 1
    return removed


def delete_upload_files(paths: Iterable[str]) -> int:
    """Delete raw upload files by their stored reference (already forgotten by their rows); a file already gone
    counts as deleted."""
    return delete_refs(paths)
