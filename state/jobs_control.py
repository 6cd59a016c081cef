"""The Jobs page's controls: lookup and run detail, retry/cancel by role, snapshot builds, bulk retry."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from jobs.runtime import control, triggers
from jobs.runtime.windows import BadRange
from models.db import session_scope
from models.errors import Conflict, NotFound
from models.public.ops import JobRunPublic
from models.queries import jobs as job_queries
from models.tenancy import ROLE_RANK
from state.base import AppState, guarded
from state.jobs import error_label, progress_label
from state.live import listens_to


def run_in_url(run_id: str) -> EventSpec:
    """Put (or take) `run=ID` in the address bar without navigating, so the open run's link can be shared."""
    change = f"u.searchParams.set('run', {json.dumps(run_id)})" if run_id else "u.searchParams.delete('run')"
    return rx.call_script("const u = new URL(window.location.href); " + change +
                          "; window.history.replaceState(null, '', u.pathname + u.search);")


def retry_advice(status: str, error: str) -> tuple[bool, str]:
    """Whether another attempt can help a finished run, and why (said next to the Retry button or instead of it)."""
    if status == "cancelled":
        return True, "Cancelled before it finished: a retry runs it again with the same parameters."
    if status == "lost":
        return True, "Its worker stopped without reporting: a retry runs it again with the same parameters."
    if status != "failed":
        return False, ""
    if error.startswith(job_queries.PERMANENT_PREFIX):
        return False, ("A permanent failure: its input (a file, a window, a row it needs) is wrong, so another "
                       "attempt would fail the same way. Fix the cause, then start a new run.")
    if error.startswith("transient failure"):
        return True, ("The database, Redis or the network failed on every attempt: a retry can pass now that "
                      "they answer again.")
    if error == "timed out":
        return True, "It ran past its time limit: a retry can pass when the workers are less busy."
    return True, ("An unexpected error (a defect, or a state that may have changed): a retry may pass; if it fails "
                  "the same way, report the error.")


def detail_of(run: dict[str, Any]) -> dict[str, str]:
    """A run as the detail panel shows it (strings only)."""
    can_retry, advice = retry_advice(run["status"], run.get("error") or "")
    links = {key: str(value) for key, value in (run.get("result") or {}).items() if key.endswith("_id") and value}
    return {
        "id": str(run["id"]), "name": run["name"], "status": run["status"], "arq_job_id": run["arq_job_id"],
        "triggered_by": run["triggered_by"], "attempts": str(run["attempts"]),
        "error": error_label(run.get("error") or ""),
        "progress": " · ".join(part for part in progress_label(
            run["status"], float(run["progress"]), run.get("progress_message") or "") if part),
        "params": json.dumps(run.get("params") or {}, sort_keys=True),
        "links": ", ".join(f"{k.removesuffix('_id')} #{v}" for k, v in links.items()),
        "retry_of": str(run.get("retry_of") or ""),
        "retry_helps": "yes" if can_retry else "", "advice": advice,
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
    async def open_from_url(self) -> None:
        """on_load: `?run=ID` (a number or an ARQ job id) opens that run; one the tenant has not says so."""
        self.detail, self.attempts, self.message = {}, [], ""
        text = self.router.url.query_parameters.get("run")
        if text is not None:
            await self._open(text)

    @rx.event
    @guarded("viewer")
    async def lookup(self, form: dict[str, Any]) -> EventSpec:
        """Open a run by number or ARQ job id."""
        await self._open(str(form.get("lookup", "")))
        return run_in_url(self.detail.get("id", ""))

    async def _open(self, text: str) -> None:
        if not text.strip():
            self.message, self.detail = "Type a run number (42) or an ARQ job id to find a run.", {}
            return
        try:
            async with session_scope() as session:
                run = await job_queries.find_job_run(session, tenant_id=self._tenant_id, lookup=text)
        except NotFound:
            self.message, self.detail = (f"Job run {text[:60]!r} not found: no run of {self.tenant_name} has that "
                                         "number or job id."), {}
            return
        self.message = ""
        self._show(JobRunPublic.of(run).model_dump())

    @rx.event
    @guarded("viewer")
    async def open_run(self, run_id: str) -> EventSpec:
        """Open a run from the table, and put it in the address bar."""
        await self._open(run_id)
        return run_in_url(self.detail.get("id", ""))

    @rx.event
    @guarded("viewer")
    def close_run(self) -> EventSpec:
        """Close the detail (and take the run out of the address bar)."""
        self.detail, self.attempts = {}, []
        return run_in_url("")

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
