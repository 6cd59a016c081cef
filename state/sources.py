"""The Sources page: upload flow files, follow their parse, and see the snapshots they produce."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex_base.event import EventHandler, EventSpec

from jobs.engines.flows.formats import FORMAT_ALIASES
from jobs.engines.flows.result import explain_skips
from jobs.runtime.uploads import EmptyUpload, UploadTooLarge, receive_upload
from models.db import session_scope
from models.graph import FlowUpload, shown_time, upload_name
from models.public.graph import SnapshotPublic
from models.queries import graph as graph_queries
from models.queries import jobs as job_queries
from models.queries import tenancy
from models.queries.audit import record_audit
from models.tenancy import WINDOW_CHOICES
from state.base import AppState, guarded
from state.live import listens_to
from state.tokens import TokensState

SHOWN = 50
UPLOAD_ID = "flow-files"
CHUNK = 1 << 20
def skipped_text(skipped: int, reasons: list[str]) -> str:
    """The skipped count above its reasons; empty when the one reason already says it (no count twice)."""
    return "" if len(reasons) == 1 and reasons[0].startswith(f"{skipped:,} ") else f"{skipped:,}"


def upload_row(upload: FlowUpload, result: dict[str, Any] | None = None) -> dict[str, Any]:
    """An upload as the table shows it; `result` (its ingest job's) tells why records were skipped."""
    reasons = explain_skips((result or {}).get("skip_reasons") or {})
    return {
        "skip_reasons": reasons,
        "id": str(upload.id), "filename": upload_name(upload), "format": upload.source_format,
        "status": upload.status, "accepted": f"{upload.rows_accepted:,}", "rejected": f"{upload.rows_rejected:,}",
        "skipped": skipped_text(upload.rows_skipped, reasons), "reason": upload.reason,
        "when": shown_time(upload.created_at),
        "errors": [f"line {e['line']}: {e['reason']}" for e in upload.errors[:5]],
    }


def snapshot_row(snapshot: dict[str, Any]) -> dict[str, str]:
    """A snapshot (public shape) as the table shows it."""
    return {
        "id": str(snapshot["id"]),
        "window": f"{shown_time(snapshot['window_start'])} → {shown_time(snapshot['window_end'])[-5:]}",
        "window_start": snapshot["window_start"], "source": snapshot.get("source", ""),
        "nodes": f"{snapshot['nodes']:,}", "edges": f"{snapshot['edges']:,}", "status": snapshot["status"],
    }


async def _chunks(file: rx.UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(CHUNK):
        yield chunk


@listens_to("job.updated", "snapshot.built")
class SourcesState(AppState):
    uploads: list[dict[str, Any]] = []
    snapshots: list[dict[str, str]] = []
    snapshot_total: int = 0
    upload_format: str = "auto"
    upload_percent: int = 0
    uploading: bool = False
    upload_message: str = ""
    upload_error: bool = False
    # The uploads the message above speaks of, until each is parsed or refused.
    _pending: list[int] = []
    window: str = "1h"
    window_choices: list[str] = [tenancy.describe_window(c) for c in WINDOW_CHOICES]

    @rx.var
    def can_upload(self) -> bool:
        return self.role in ("analyst", "approver", "admin")

    @rx.event
    @guarded("viewer")
    async def load(self) -> EventHandler | None:
        """Newest uploads and snapshots of the tenant; for admins, then the API tokens."""
        await self._refresh(self._tenant_id)
        # Only admins see the tokens card: nobody else asks for the list (and would be refused).
        return TokensState.event_handlers["load_tokens"] if self._role == "admin" else None

    async def _refresh(self, tenant_id: int) -> None:
        async with session_scope() as session:
            tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
            self.window = tenancy.describe_window(tenant.window_seconds)
            snapshots = await graph_queries.list_snapshots(session, tenant_id=tenant_id, limit=SHOWN)
            self.snapshot_total = await graph_queries.count_snapshots(session, tenant_id=tenant_id)
        await self._refresh_uploads(tenant_id)
        self.snapshots = [snapshot_row(SnapshotPublic.of(s).model_dump()) for s in snapshots]

    @rx.event
    @guarded("viewer")
    def set_upload_format(self, value: str) -> None:
        self.upload_format = value if value in FORMAT_ALIASES else "auto"

    @rx.event
    @guarded("admin")
    async def set_window(self, value: str) -> None:
        """Admins change the snapshot window; later builds use it."""
        tenant_id = self._tenant_id
        try:
            seconds = next(c for c in WINDOW_CHOICES if tenancy.describe_window(c) == value)
        except StopIteration:
            self.upload_message, self.upload_error = f"{value} is not an allowed window", True
            return
        async with session_scope() as session:
            before = (await tenancy.get_tenant(session, tenant_id=tenant_id)).window_seconds
            await tenancy.set_window_seconds(session, tenant_id=tenant_id, seconds=seconds)
            await record_audit(session, tenant_id=tenant_id, actor=self.actor, action="tenant.window",
                               before={"window_seconds": before}, after={"window_seconds": seconds})
        self.window, self.upload_error = value, False
        self.upload_message = f"Snapshot window set to {value}; new uploads and rebuilds use it."

    @rx.event
    @guarded("viewer")
    def upload_progress(self, progress: dict[str, Any]) -> None:
        """Browser → server transfer progress from the upload widget."""
        fraction = float(progress.get("progress", 0))
        # The last progress report can arrive after the upload handler finished.
        self.uploading = fraction < 1
        self.upload_percent = round(fraction * 100)

    @rx.event
    @guarded("analyst")
    async def handle_upload(self, files: list[rx.UploadFile]) -> EventSpec | None:
        """Store each dropped file as an upload and queue its parse."""
        tenant_id = self._tenant_id
        if not files:
            self.upload_message, self.upload_error = "Choose or drop at least one flow file first.", True
            return None
        queued: list[str] = []
        self._pending = []
        for file in files:
            try:
                upload, _ = await receive_upload(_chunks(file), tenant_id=tenant_id, filename=file.filename or "upload",
                                                 fmt=self.upload_format, created_by=self.actor)
            except (EmptyUpload, UploadTooLarge) as exc:
                # Nothing of the refused file is kept; the files before it were queued and say so.
                before = f" (queued before it: {', '.join(queued)})" if queued else ""
                self.upload_message = f"{file.filename} was not stored: {exc}{before}"
                self.upload_error, self.uploading = True, False
                await self._refresh(tenant_id)
                return None
            queued.append(f"#{upload.id} {upload_name(upload)}")
            self._pending = [*self._pending, upload.id or 0]
        self.uploading, self.upload_percent, self.upload_error = False, 100, False
        self.upload_message = f"Queued {', '.join(queued)}: results appear below as the worker parses them."
        await self._refresh(tenant_id)
        cleared: EventSpec = rx.clear_selected_files(UPLOAD_ID)
        return cleared

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """Refresh uploads when a parse finishes; insert or update a built snapshot in place."""
        data = event.get("data", {})
        if event.get("type") == "job.updated":
            if data.get("name") == "ingest_flows" and data.get("status") in ("succeeded", "failed", "cancelled"):
                await self._refresh_uploads(self._tenant_id)
            return
        row = snapshot_row(data)
        rows = [r for r in self.snapshots if r["id"] != row["id"]]
        if len(rows) == len(self.snapshots):
            self.snapshot_total += 1
        rows.append(row)
        self.snapshots = sorted(rows, key=lambda r: r["window_start"], reverse=True)[:SHOWN]

    async def _refresh_uploads(self, tenant_id: int) -> None:
        async with session_scope() as session:
            uploads = await graph_queries.list_uploads(session, tenant_id=tenant_id, limit=20)
            results = await job_queries.ingest_results(session, tenant_id=tenant_id,
                                                       upload_ids=[u.id for u in uploads if u.status == "ingested"
                                                                   and u.id is not None])
        self.uploads = [upload_row(u, results.get(u.id or 0)) for u in uploads]
        self._settle_message(uploads)

    def _settle_message(self, uploads: list[FlowUpload]) -> None:
        """Once every upload the message spoke of is parsed or refused, say how each ended (not "Queued")."""
        by_id = {u.id: u for u in uploads}
        mine = [by_id[i] for i in self._pending if i in by_id]
        if not mine or any(u.status == "received" for u in mine):
            return
        self._pending = []
        self.upload_error = any(u.status != "ingested" for u in mine)
        self.upload_message = " ".join(upload_outcome(u) for u in mine)


def upload_outcome(upload: FlowUpload) -> str:
    """How a parse ended, in one sentence."""
    name = f"#{upload.id} {upload_name(upload)}"
    if upload.status == "ingested":
        return (f"{name} ingested: {upload.rows_accepted:,} flows accepted, {upload.rows_rejected:,} bad lines, "
                f"{upload.rows_skipped:,} skipped (see the table).")
    if upload.status == "rejected":
        return f"{name} was rejected, nothing of it was kept: {upload.reason.rstrip('.')}."
    return f"{name} failed: {upload.reason or upload.status}."
