"""The `ingest_flows` job: parse a stored upload, keep its flows aggregated per 5-minute partition
(`jobs.stores.flows`), queue the snapshots of the windows it touched."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.formats import ALLOWED_FOR_ALIAS, parser_format
from jobs.engines.flows.parse import iter_batches
from jobs.runtime.prefetch import prefetched
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import PermanentJobError, report_progress, tracked
from jobs.stores.flows import UploadWriter, align
from models.db import session_scope
from models.queries import graph as graph_queries
from models.queries import tenancy

# The CLI and API take the public format names (docs/architecture.md, "Interfaces"); the parsers know the variants.
STORED_ERRORS = 100
BATCH_ROWS = 500_000


def _parse_into(writer_args: dict[str, Any], path: str, requested: str) -> tuple[UploadWriter | None, dict[str, Any]]:
    totals: dict[str, Any] = {"accepted": 0, "rejected": 0, "skipped": 0, "errors": [], "format": ""}
    writer: UploadWriter | None = None
    batches = prefetched(iter_batches(path, parser_format(requested), batch_rows=BATCH_ROWS))
    try:
        # The next batch is parsed while this one is aggregated and staged.
        for batch in batches:
            allowed = ALLOWED_FOR_ALIAS.get(requested)
            if allowed is not None and batch.format not in allowed:
                raise FlowFileRejected(f"this is a {batch.format} file, not {requested}")
            if writer is None:
                writer = UploadWriter(fmt=batch.format, **writer_args)
            writer.add(batch.frame)
            totals["format"] = batch.format
            for key in ("accepted", "rejected", "skipped"):
                totals[key] += getattr(batch, key)
            room = STORED_ERRORS - len(totals["errors"])
            totals["errors"].extend({"line": e.line, "reason": e.reason} for e in batch.errors[:room])
    except FlowFileRejected:
        if writer is not None:
            writer.discard()  # a rejected file lands nothing
        raise
    finally:
        batches.close()
    return writer, totals


@tracked(timeout=1800, max_tries=3)
async def ingest_flows(ctx: dict[str, Any], *, tenant_id: int, upload_id: int) -> dict[str, Any]:
    """Parse the upload; on success queue `build_snapshot` for every window it touched."""
    async with session_scope() as session:
        upload = await graph_queries.get_upload(session, tenant_id=tenant_id, upload_id=upload_id)
        tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
    if not os.path.exists(upload.stored_path):
        raise PermanentJobError(f"the stored file of upload {upload_id} is missing")
    await report_progress(ctx, fraction=0.05, message=f"parsing {upload.filename}")
    try:
        # Parsing is CPU-bound (polars releases the GIL): keep the worker's loop free meanwhile.
        writer, totals = await asyncio.to_thread(
            _parse_into, {"tenant_id": tenant_id, "upload_id": upload_id}, upload.stored_path, upload.source_format
        )
    except FlowFileRejected as exc:
        async with session_scope() as session:
            await graph_queries.finish_upload(session, tenant_id=tenant_id, upload_id=upload_id, status="rejected",
                                              reason=str(exc))
        raise PermanentJobError(f"file rejected: {exc}") from exc
    # Merging and writing the partials is CPU work too.
    partitions = await asyncio.to_thread(writer.commit) if writer is not None else []
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
            "skipped": totals["skipped"], "windows": len(windows), "snapshot_jobs": [r.id for r in runs]}
