"""The last step of every upload, whichever door it came through: a spooled file becomes an upload row and an
object of the store (`jobs.stores.objects`: `uploads/{tenant}/upload-{id}`, in a folder or a bucket, so a worker
on another machine reads what this web process received), then `ingest_flows` is queued. And what every door
checks first: the size limits and the tenant's disk quota (`upload_limits`).

Kept apart from `jobs.runtime.uploads` (which imports the parsers to check the format) so `sg ingest` can store
a file without loading them.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis.exceptions import RedisError

from jobs.runtime.queue import enqueue_job, job_id_for
from jobs.stores.keys import UnsafeKey, tenant_key
from jobs.stores.objects import get_store
from models.db import session_scope
from models.graph import FlowUpload
from models.ops import JobRun
from models.queries import graph as graph_queries
from models.queries import jobs as job_queries
from models.settings import get_settings

log = logging.getLogger(__name__)


class UploadTooLarge(ValueError):
    """The file passed a size limit: its own, or (a plain file) the limit of flow data per upload."""


class QuotaExceeded(UploadTooLarge):
    """Storing the file would pass the tenant's disk quota."""


def upload_folder(tenant_id: int) -> Path:
    """The local folder the tenant's uploads are spooled in while they arrive (in a local store, the folder they
    are kept in: storing one is a rename)."""
    return get_store().staging_dir(tenant_key("uploads", tenant_id))


def upload_key(tenant_id: int, upload_id: int) -> str:
    """The key an upload is stored under."""
    if isinstance(upload_id, bool) or not isinstance(upload_id, int) or upload_id < 1:
        raise UnsafeKey(f"upload_id must be a positive integer, got {upload_id!r}")
    return tenant_key("uploads", tenant_id, f"upload-{upload_id}")


def stored_upload_exists(ref: str) -> bool:
    """Whether the upload a row names (`FlowUpload.stored_path`) is in the store."""
    store = get_store()
    try:
        key = store.key_of_ref(ref)
    except UnsafeKey:
        return False
    return store.head(key) is not None


@contextmanager
def stored_upload_file(ref: str) -> Iterator[Path]:
    """The stored upload as a local file for the `with` block (downloaded from a bucket, removed afterwards)."""
    store = get_store()
    with store.local_copy(store.key_of_ref(ref)) as path:
        yield path


def delete_stored_upload(ref: str) -> None:
    """Remove a stored upload (a rejected file); one already gone counts as removed."""
    store = get_store()
    store.delete(store.key_of_ref(ref))


def tree_bytes(root: Path) -> int:
    """The size of every file under `root` (0 when it does not exist)."""
    total = 0
    for folder, _, names in os.walk(root):
        for name in names:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                continue  # removed while we walked (a staging folder discarded, a spool renamed)
    return total


def tenant_disk_bytes(tenant_id: int) -> int:
    """What the tenant's files take in the store: its uploads and its flows (partials, snapshots, layouts)."""
    store = get_store()
    return store.total_bytes(tenant_key("uploads", tenant_id)) + store.total_bytes(tenant_key("flows", tenant_id))


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """What one file of a tenant may be now: the configured limits and the room left in its disk quota."""

    max_bytes: int
    max_decompressed_bytes: int
    quota: int
    used: int

    def check(self, size: int, *, compressed: bool) -> None:
        """Raise UploadTooLarge (QuotaExceeded) when a file of `size` bytes may not be stored."""
        if size > self.max_bytes:
            raise UploadTooLarge(f"the file is larger than the limit of {self.max_bytes} bytes")
        if not compressed and size > self.max_decompressed_bytes:
            raise UploadTooLarge(
                f"the file is larger than the limit of {self.max_decompressed_bytes:,} bytes of flow data per upload"
            )
        if self.used + size > self.quota:
            raise QuotaExceeded(
                f"the tenant's stored files would pass its disk quota of {self.quota:,} bytes "
                f"({self.used:,} bytes in use; an administrator can raise SG_TENANT_DISK_QUOTA_BYTES)"
            )


def upload_limits(tenant_id: int) -> UploadLimits:
    """The limits for the tenant's next file (walks its folders: call it off the event loop)."""
    settings = get_settings()
    return UploadLimits(settings.max_upload_bytes, settings.max_upload_decompressed_bytes,
                        settings.tenant_disk_quota_bytes, tenant_disk_bytes(tenant_id))


async def store_spooled(
    spooled: Path, *, size: int, tenant_id: int, filename: str, fmt: str, created_by: str
) -> tuple[FlowUpload, JobRun]:
    """Record `spooled` (a local file, best in `upload_folder`) as a new upload and queue its parse.

    The row, then the object under its final key, committed before the job is queued: the worker may
    start within milliseconds and must find both. The spooled file is gone afterwards either way.
    """
    store = get_store()
    try:
        async with session_scope() as session:
            upload = await graph_queries.create_upload(
                session, tenant_id=tenant_id, filename=filename or "upload", size_bytes=size, source_format=fmt,
                stored_path="", created_by=created_by,
            )
            key = upload_key(tenant_id, upload.id or 0)
            await asyncio.to_thread(store.put_file, key, spooled)
            upload.stored_path = store.ref(key)
            session.add(upload)
    finally:
        spooled.unlink(missing_ok=True)
    try:
        run = await enqueue_job("ingest_flows", tenant_id=tenant_id, triggered_by=created_by,
                                params={"upload_id": upload.id}, key=str(upload.id))
    except (RedisError, OSError) as exc:
        # Redis is down (restarting): the upload and its run are in PostgreSQL, so the file is accepted and the
        # sweeper queues the run once Redis answers (a queued run ARQ does not hold is re-queued after its grace).
        async with session_scope() as session:
            queued = await job_queries.find_active_job_run(
                session, tenant_id=tenant_id, arq_job_id=job_id_for("ingest_flows", tenant_id, str(upload.id)))
        if queued is None:
            raise
        log.warning("upload %s of tenant %s stored; its parse is queued once Redis answers (%s)", upload.id,
                    tenant_id, type(exc).__name__)
        run = queued
    return upload, run
