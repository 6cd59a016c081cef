"""Receive a flow file from any door (REST, the Sources page): check its limits, store it, record it, queue its
parse. (`sg ingest` spools its own copy and stores it through `jobs.runtime.upload_store` too.)"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterable
from pathlib import Path

from jobs.engines.flows.formats import parser_format
from jobs.engines.flows.source import GZIP_MAGIC
from jobs.runtime.upload_store import (
    QuotaExceeded,
    UploadLimits,
    UploadTooLarge,
    store_spooled,
    upload_folder,
    upload_limits,
)
from models.graph import FlowUpload
from models.ops import JobRun

__all__ = ["EmptyUpload", "QuotaExceeded", "UploadTooLarge", "receive_upload"]


class EmptyUpload(ValueError):
    """Nothing was sent."""


async def _spool(chunks: AsyncIterable[bytes], folder: Path, limits: UploadLimits) -> tuple[Path, int]:
    """Write the chunks to a temporary file in `folder`; past a limit, remove it and raise UploadTooLarge."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    size, head = 0, b""
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                head = (head + chunk[:2])[:2]
                # Until two bytes told gzip or not, only the limits that hold for both apply.
                limits.check(size, compressed=len(head) < 2 or head == GZIP_MAGIC)
                out.write(chunk)
        limits.check(size, compressed=head == GZIP_MAGIC)
    except BaseException:
        os.unlink(name)  # a refused or broken upload leaves nothing behind
        raise
    return Path(name), size


async def receive_upload(
    chunks: AsyncIterable[bytes], *, tenant_id: int, filename: str, fmt: str, created_by: str
) -> tuple[FlowUpload, JobRun]:
    """Store the bytes as a new upload of the tenant and queue `ingest_flows` for it."""
    parser_format(fmt)  # refuse an unknown format before storing anything
    limits = await asyncio.to_thread(upload_limits, tenant_id)  # walks the tenant's folders
    spooled, size = await _spool(chunks, upload_folder(tenant_id), limits)
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
