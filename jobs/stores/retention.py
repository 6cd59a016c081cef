"""What retention deletes in the store: flow partitions past a tenant's retention and raw upload files."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from jobs.stores.keys import tenant_key
from jobs.stores.objects import delete_refs, get_store

PARTITION_SECONDS = 300


def expire_flow_partitions(tenant_id: int, before: datetime, *, received_before: datetime) -> int:
    """Delete the tenant's flow partitions (5-minute prefixes `window=<epoch>`) whose flows end before `before`
    and whose files were all written before `received_before`.

    Both ages count: a capture from last year imported today is kept for the tenant's retention from today (it
    was deleted the first night when flow time alone decided), and a partition an ingest is writing right now is
    never deleted under it. One listing of the tenant's flows gives both (the key and the object's write time); the
    folder listing adds partitions with no file in them (the local backend keeps emptied folders).
    """
    store, root = get_store(), tenant_key("flows", tenant_id)
    newest = dict.fromkeys(store.children(root), 0)  # a folder may hold an emptied partition: nothing in it is new
    for info in store.listing(root):
        name = info.key[len(root) + 1:].split("/", 1)[0]
        newest[name] = max(newest.get(name, 0), info.written_ns)
    flows_end, written_end = before.timestamp(), received_before.timestamp() * 1e9
    removed = 0
    for name, written in sorted(newest.items()):
        epoch = name.split("=", 1)[1] if name.startswith("window=") else ""
        if epoch.isdigit() and int(epoch) + PARTITION_SECONDS <= flows_end and written < written_end:
            store.delete_prefix(f"{root}/{name}")
            removed += 1
    return removed


def delete_upload_files(paths: Iterable[str]) -> int:
    """Delete raw upload files by their stored reference (already forgotten by their rows); a file already gone
    counts as deleted."""
    return delete_refs(paths)
