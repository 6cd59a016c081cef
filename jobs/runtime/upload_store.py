"""The last step of every upload, whichever door it came through: a spooled file becomes an upload row
and a file under its final name, then `ingest_flows` is queued.

Kept apart from `jobs.runtime.uploads` (which imports the parsers to check the format) so `sg ingest` can store
a file without loading them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from jobs.runtime.queue import enqueue_job
from models.db import session_scope
from models.graph import FlowUpload
from models.ops import JobRun
from models.queries import graph as graph_queries
from models.settings import get_settings


def upload_folder(tenant_id: int) -> Path:
    """Where the tenant's uploads are kept."""
    return get_settings().upload_dir / str(tenant_id)


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
