"""The `ingest_flows` job: parse a stored upload, keep its flows per 5-minute partition (`jobs.stores.flows`:
edge and node aggregates, and one row per connection for detection), queue the snapshots of the windows it
touched."""

from __future__ import annotations

import asyncio
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.formats import ALLOWED_FOR_ALIAS, parser_format
from jobs.engines.flows.parse import iter_batches
from jobs.runtime.prefetch import prefetched
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import PermanentJobError, report_progress, tracked
from jobs.runtime.upload_store import (
    delete_stored_upload,
    stored_upload_exists,
    stored_upload_file,
    tenant_disk_bytes,
    tree_bytes,
)
from jobs.stores.flows import UploadWriter, align
from models.db import session_scope
from models.graph import upload_name
from models.queries import graph as graph_queries
from models.queries import tenancy
from models.settings import get_settings

# The CLI and API take the public format names (docs/architecture.md, "Interfaces"); the parsers know the variants.
STORED_ERRORS = 100
BATCH_ROWS = 500_000


class ParseStopped(Exception):
    """The job was cancelled (its timeout, a user's abort) while its parse ran on a thread."""


@dataclass
class _Budget:
    """What one upload may still cost: rows, and disk beside what the tenant stored when its parse began."""

    max_rows: int
    quota: int
    used: int
    rows: int = 0

    @classmethod
    def of_tenant(cls, tenant_id: int) -> _Budget:
        settings = get_settings()
        return cls(settings.max_upload_rows, settings.tenant_disk_quota_bytes, tenant_disk_bytes(tenant_id))

    def charge_rows(self, records: int) -> None:
        """Count a batch's records; FlowFileRejected past the limit per upload."""
        self.rows += records
        if self.rows > self.max_rows:
            raise FlowFileRejected(f"the file has more than {self.max_rows:,} rows: over the limit per upload")

    def charge_disk(self, writer: UploadWriter) -> None:
        """FlowFileRejected when what the upload staged would pass the tenant's disk quota."""
        staged = tree_bytes(writer.staging)
        if self.used + staged > self.quota:
            raise FlowFileRejected(f"its flows ({staged:,} bytes so far) would pass the tenant's disk quota of "
                                   f"{self.quota:,} bytes ({self.used:,} bytes in use)")


def _parse_into(
    writer_args: dict[str, Any], path: str, requested: str, stop: threading.Event
) -> tuple[UploadWriter | None, dict[str, Any]]:
    totals: dict[str, Any] = {"accepted": 0, "rejected": 0, "skipped": 0, "errors": [], "format": "",
                              "skip_reasons": {}}
    writer: UploadWriter | None = None
    budget = _Budget.of_tenant(writer_args["tenant_id"])
    max_bytes = get_settings().max_upload_decompressed_bytes
    batches = prefetched(iter_batches(path, parser_format(requested), batch_rows=BATCH_ROWS, max_bytes=max_bytes))
    try:
        # The next batch is parsed while this one is aggregated and staged.
        for batch in batches:
            if stop.is_set():
                raise ParseStopped("the job was cancelled while parsing")
            allowed = ALLOWED_FOR_ALIAS.get(requested)
            if allowed is not None and batch.format not in allowed:
                raise FlowFileRejected(f"this is a {batch.format} file, not {requested}")
            budget.charge_rows(batch.records)
            if writer is None:
                writer = UploadWriter(fmt=batch.format, **writer_args)
            writer.add(batch.frame)
            budget.charge_disk(writer)
            totals["format"] = batch.format
            for key in ("accepted", "rejected", "skipped"):
                totals[key] += getattr(batch, key)
            for why, count in batch.skip_reasons.items():  # why records were skipped, shown on the Sources page
                totals["skip_reasons"][why] = totals["skip_reasons"].get(why, 0) + count
            room = STORED_ERRORS - len(totals["errors"])
            totals["errors"].extend({"line": e.line, "reason": e.reason} for e in batch.errors[:room])
    except (FlowFileRejected, ParseStopped):
        if writer is not None:
            writer.discard()  # a rejected or stopped file lands nothing
        raise
    finally:
        batches.close()
    return writer, totals


async def _parse_upload(
    writer_args: dict[str, Any], path: str, requested: str
) -> tuple[UploadWriter | None, dict[str, Any]]:
    """`_parse_into` on a thread (parsing is CPU-bound; polars releases the GIL), so the worker's loop stays free.

    A thread cannot be cancelled: when the job is (its timeout, an abort), the parse stops at its next batch and
    the job ends only once it has, so a timed-out parse does not go on burning CPU behind a "failed" run.
    """
    stop = threading.Event()
    work = asyncio.ensure_future(asyncio.to_thread(_parse_into, writer_args, path, requested, stop))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        stop.set()
        try:
            writer, _ = await work
        except (ParseStopped, FlowFileRejected):
            pass  # it stopped (or was refused) and discarded what it staged
        else:
            if writer is not None:
                writer.discard()  # it finished just as the job was cancelled: land nothing
        raise


async def _finish_unparsed(tenant_id: int, upload_id: int, status: str, reason: str) -> None:
    async with session_scope() as session:
        await graph_queries.finish_upload(session, tenant_id=tenant_id, upload_id=upload_id, status=status,
                                          reason=reason)


@tracked(timeout=1800, max_tries=3)
async def ingest_flows(ctx: dict[str, Any], *, tenant_id: int, upload_id: int) -> dict[str, Any]:
    """Parse the upload; on success queue `build_snapshot` for every window it touched."""
    async with session_scope() as session:
        upload = await graph_queries.get_upload(session, tenant_id=tenant_id, upload_id=upload_id)
        tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
    if not await asyncio.to_thread(stored_upload_exists, upload.stored_path):
        raise PermanentJobError(f"the stored file of upload {upload_id} is missing")
    await report_progress(ctx, fraction=0.05, message=f"parsing {upload_name(upload)}")
    try:
        # a local file: the stored one itself, or a copy of the object when the store is a bucket
        with ExitStack() as stack:
            local = await asyncio.to_thread(stack.enter_context, stored_upload_file(upload.stored_path))
            writer, totals = await _parse_upload(
                {"tenant_id": tenant_id, "upload_id": upload_id}, str(local), upload.source_format
            )
    except FlowFileRejected as exc:
        await _finish_unparsed(tenant_id, upload_id, "rejected", str(exc))
        # A rejected file is never parsed again: it must not go on taking the tenant's disk.
        await asyncio.to_thread(delete_stored_upload, upload.stored_path)
        raise PermanentJobError(f"file rejected: {exc}") from exc
    except asyncio.CancelledError:
        await _finish_unparsed(tenant_id, upload_id, "failed", "parse stopped: the job timed out or was cancelled")
        raise
    # Merging and writing the partials is CPU work too.
    partitions = await asyncio.to_thread(writer.commit) if writer is not None else []
    enriched = _enrichment_result(writer)
    windows = sorted({align(p, tenant.window_seconds) for p in partitions})
    async with session_scope() as session:
        await graph_queries.finish_upload(
            session, tenant_id=tenant_id, upload_id=upload_id, status="ingested", accepted=totals["accepted"],
            rejected=totals["rejected"], skipped=totals["skipped"], errors=totals["errors"],
            source_format=totals["format"],
        )
    await report_progress(ctx, fraction=0.9, message=f"queueing {len(windows)} snapshot builds")
    runs = [
        await enqueue_job("build_snapshot", tenant_id=tenant_id, triggered_by=f"upload #{upload_id}",
                          params={"window_start": w.isoformat()}, key=str(int(w.timestamp())), rerun_if_running=True)
        for w in windows
    ]
    return {"upload_id": upload_id, "accepted": totals["accepted"], "rejected": totals["rejected"],
            "skipped": totals["skipped"], "skip_reasons": totals["skip_reasons"], "windows": len(windows),
            "snapshot_jobs": [r.id for r in runs], "enrichment": enriched}


def _enrichment_result(writer: UploadWriter | None) -> dict[str, Any]:
    """How many outside addresses got an ASN/organisation/country, or why none did (the tables are missing:
    said once here and in the worker's log; ingest went on without them)."""
    if writer is None:
        return {"addresses": 0, "missing": None}
    return {"addresses": writer.enricher.frame().height, "missing": writer.enricher.missing}
