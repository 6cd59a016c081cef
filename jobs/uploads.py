"""Receive a flow file from any door (REST, CLI, the Sources page): store it, record it, queue its parse."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterable
from pathlib import Path

from jobs.ingest import parser_format
from jobs.queue import enqueue_job
from models.db import session_scope
from models.graph import FlowUpload
from models.ops import JobRun
from models.queries import graph as graph_queries
from models.settings import get_settings


class UploadTooLarge(ValueError):
    """The body passed the configured size limit."""


class EmptyUpload(ValueError):
    """Nothing was sent."""


async def _spool(chunks: AsyncIterable[bytes], folder: Path, limit: int) -> tuple[Path, int]:
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    size = 0
    with os.fdopen(handle, "wb") as out:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                out.close()
                os.unlink(name)
                raise UploadTooLarge(f"the file is larger than the limit of {limit} bytes")
            out.write(chunk)
    return Path(name), size


async def receive_upload(
    chunks: AsyncIterable[bytes], *, tenant_id: int, filename: str, fmt: str, created_by: str
) -> tuple[FlowUpload, JobRun]:
    """Store the bytes as a new upload of the tenant and queue `ingest_flows` for it."""
    parser_format(fmt)  # refuse an unknown format before storing anything
    settings = get_settings()
    folder = settings.upload_dir / str(tenant_id)
    spooled, size = await _spool(chunks, folder, settings.max_upload_bytes)
    if size == 0:
        spooled.unlink()
        raise EmptyUpload("the file is empty")
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


async def file_chunks(path: Path, size: int = 1 << 20) -> AsyncIterable[bytes]:
    """A local file as chunks (the CLI's door)."""
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


async def bytes_chunks(data: bytes) -> AsyncIterable[bytes]:
    """Bytes already in memory as one chunk (the upload widget's door)."""
    yield data
