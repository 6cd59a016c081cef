"""The last step of every upload, whichever door it came through: a spooled file becomes an upload row
and a file under its final name, then `ingest_flows` is queued. And what every door checks first: the
size limits and the tenant's disk quota (`upload_limits`).

Kept apart from `jobs.runtime.uploads` (which imports the parsers to check the format) so `sg ingest` can store
a file without loading them.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from jobs.runtime.queue import enqueue_job
from models.db import session_scope
from models.graph import FlowUpload
from models.ops import JobRun
from models.queries import graph as graph_queries
from models.settings import get_settings


class UploadTooLarge(ValueError):
    """The file passed a size limit: its own, or (a plain file) the limit of flow data per upload."""


class QuotaExceeded(UploadTooLarge):
    """Storing the file would pass the tenant's disk quota."""


def upload_folder(tenant_id: int) -> Path:
    """Where the tenant's uploads are kept."""
    return get_settings().upload_dir / str(tenant_id)


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
    """What the tenant's files take on disk: its uploads and its flow store (partials, snapshots, layouts)."""
    settings = get_settings()
    return tree_bytes(settings.upload_dir / str(tenant_id)) + tree_bytes(settings.flow_dir / str(tenant_id))


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
    """Record `spooled` (a file on the upload directory's filesystem) as a new upload and queue its parse.

    The row, then the file under its final name, committed before the job is queued: the worker may
    start within milliseconds and must find both. The spooled file is gone afterwards either way.
    """
    folder = upload_folder(tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        async with session_scope() as session:
            upload = await graph_queries.create_upload(
                session, tenant_id=tenant_id, filename=filename or "upload", size_bytes=size, source_format=fmt,
                stored_path="", created_by=created_by,
            )
            final = folder / f"upload-{upload.id}"
            shutil.move(spooled, final)
            upload.stored_path = str(final)
            session.add(upload)
    finally:
        spooled.unlink(missing_ok=True)
    run = await enqueue_job("ingest_flows", tenant_id=tenant_id, triggered_by=created_by,
                            params={"upload_id": upload.id}, key=str(upload.id))
    return upload, run
