"""Receive a flow file from any door (REST, CLI, the Sources page): store it, record it, queue its parse."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterable
from pathlib import Path

from jobs.engines.flows.formats import parser_format
from jobs.runtime.upload_store import store_spooled, upload_folder
from models.graph import FlowUpload
from models.ops import JobRun
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
    folder = upload_folder(tenant_id)
    spooled, size = await _spool(chunks, folder, settings.max_upload_bytes)
    if size == 0:
        spooled.unlink()
        raise EmptyUpload("the file is empty")
    return await store_spooled(spooled, size=size, tenant_id=tenant_id, filename=filename, fmt=fmt,
                               created_by=created_by)


async def file_chunks(path: Path, size: int = 1 << 20) -> AsyncIterable[bytes]:
    """A local file as chunks (the CLI's door)."""
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk
