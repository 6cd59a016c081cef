"""The Jobs page's controls: lookup and run detail, retry/cancel by role, snapshot builds, bulk retry."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from jobs.runtime import control, triggers
from jobs.runtime.windows import BadRange
from models.db import session_scope
from models.errors import Conflict, NotFound
from models.public.ops import JobRunPublic
from models.queries import jobs as job_queries
from models.tenancy import ROLE_RANK
from state.base import AppState, guarded
from state.live import listens_to


def detail_of(run: dict[str, Any]) -> dict[str, str]:
    """A run as the detail panel shows it (strings only)."""
    links = {key: str(value) for key, value in (run.get("result") or {}).items() if key.endswith("_id") and value}
    return {
        "id": str(run["id"]), "name": run["name"], "status": run["status"], "arq_job_id": run["arq_job_id"],
        "triggered_by": run["triggered_by"], "attempts": str(run["attempts"]), "error": run.get("error") or "",
        "progress": f"{round(float(run['progress']) * 100)}% {run.get('progress_message') or ''}".strip(),
        "params": json.dumps(run.get("params") or {}, sort_keys=True),
        "links": ", ".join(f"{k.removesuffix('_id')} #{v}" for k, v in links.items()),
        "retry_of": str(run.get("retry_of") or ""),
    }


@listens_to("job.updated")
class JobsControlState(AppState):
    lookup_text: str = ""
    detail: dict[str, str] = {}
    attempts: list[dict[str, str]] = []
    message: str = ""
    build_error: str = ""
    bulk_count: int = 0
    bulk_open: bool = False

    @rx.var
    def can_retry(self) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK["analyst"]

    @rx.var
    def can_cancel(self) -> bool:
        return self.role == "admin"

    def _show(self, run: dict[str, Any]) -> None:
        self.detail = detail_of(run)
        self.attempts = [{"attempt": str(a.get("attempt", "")), "error": str(a.get("error", "")),
                          "at": str(a.get("at", ""))[:19]} for a in run.get("attempt_errors") or []]

    @rx.event
    @guarded("viewer")
    async def lookup(self, form: dict[str, Any]) -> None:
        """Open a run by number or ARQ job id."""
        await self._open(str(form.get("lookup", "")))

    async def _open(self, text: str) -> None:
        try:
            async with session_scope() as session:
                run = await job_queries.find_job_run(session, tenant_id=self._tenant_id, lookup=text)
        except NotFound as exc:
            self.message, self.detail = exc.message, {}
            return
        self.message = ""
        self._show(JobRunPublic.of(run).model_dump())

    @rx.event
    @guarded("viewer")
    async def open_run(self, run_id: str) -> None:
        """Open a run from the table."""
        await self._open(run_id)

    @rx.event
    @guarded("analyst")
    async def retry(self) -> None:
        """Analysts: queue the open run again."""
        try:
            new = await control.retry_run(tenant_id=self._tenant_id, job_run_id=int(self.detail["id"]),
                                          actor=self.actor)
        except (Conflict, NotFound) as exc:
            self.message = exc.message
            return
        self.message = f"Queued #{new.id}, a retry of #{self.detail['id']}."
        self._show(JobRunPublic.of(new).model_dump())

    @rx.event
    @guarded("admin")
    async def cancel(self) -> None:
        """Admins: abort the open run."""
        try:
            run = await control.cancel_run(tenant_id=self._tenant_id, job_run_id=int(self.detail["id"]),
                                           actor=self.actor)
        except (Conflict, NotFound) as exc:
            self.message = exc.message
            return
        self.message = f"Cancel requested for #{run.id}."
        self._show(JobRunPublic.of(run).model_dump())

    @rx.event
    @guarded("analyst")
    async def trigger_build(self, form: dict[str, Any]) -> None:
        """Analysts: queue snapshot builds (or drift runs over the built snapshots) for a validated range."""
        what = str(form.get("what") or "build")
        queue = triggers.queue_drift_runs if what == "drift" else triggers.queue_snapshot_builds
        try:
            runs = await queue(tenant_id=self._tenant_id, window_start=str(form.get("window_start", "")),
                               window_end=str(form.get("window_end", "")), actor=self.actor)
        except BadRange as exc:
            self.build_error = str(exc)
            return
        self.build_error = ""
        label = "drift run(s)" if what == "drift" else "snapshot build(s)"
        self.message = f"Queued {len(runs)} {label}: " + ", ".join(f"#{r.id}" for r in runs)

    @rx.event
    @guarded("admin")
    async def ask_bulk_retry(self) -> None:
        """Admins: count the failed runs a bulk retry would queue, then ask to confirm."""
        self.bulk_count = len(await control.retryable_failed_runs(tenant_id=self._tenant_id))
        self.bulk_open = True

    @rx.event
    @guarded("viewer")
    def close_bulk(self) -> None:
        """Dismiss the confirmation."""
        self.bulk_open = False

    @rx.event
    @guarded("admin")
    async def confirm_bulk_retry(self) -> None:
        """Retry the confirmed number of failed runs (refused when the number changed meanwhile)."""
        self.bulk_open = False
        try:
            runs = await control.bulk_retry_failed(tenant_id=self._tenant_id, actor=self.actor,
                                                   expected=self.bulk_count)
        except Conflict as exc:
            self.message = exc.message
            return
        self.message = f"Queued {len(runs)} retries."

    def _on_live_event(self, event: dict[str, Any]) -> None:
        """Keep the open run's detail live."""
        if self.detail and str(event["data"].get("id")) == self.detail.get("id"):
            self._show(event["data"])
