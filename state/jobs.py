"""The Jobs page: the tenant's job runs, live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from jobs.queue import enqueue_job
from models.db import session_scope
from models.errors import Forbidden
from models.ops import JOB_STATUSES, job_run_public
from models.queries import jobs as job_queries
from models.queries.audit import record_audit
from state.base import AppState
from state.live import listens_to

PAGE_SIZE = 50


def _clock(stamp: str | None) -> str:
    return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M:%S") if stamp else ""


def _duration(run: dict[str, Any]) -> str:
    if not run.get("started_at") or not run.get("finished_at"):
        return ""
    seconds = (datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])).total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def job_row(run: dict[str, Any]) -> dict[str, str]:
    """A job run as the table shows it (strings only)."""
    return {
        "id": str(run["id"]),
        "name": run["name"],
        "status": run["status"],
        "triggered_by": run["triggered_by"],
        "attempts": str(run["attempts"]),
        "progress": f"{round(float(run['progress']) * 100)}%",
        "message": run.get("progress_message") or "",
        "error": run.get("error") or "",
        "enqueued_at": _clock(run.get("enqueued_at")),
        "duration": _duration(run),
    }


@listens_to("job.updated")
class JobsState(AppState):
    runs: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    notice: str = ""

    @rx.var
    def status_counts(self) -> list[list[str]]:
        """(status, count) pairs in a fixed order, for the summary badges."""
        return [[status, str(self.counts.get(status, 0))] for status in JOB_STATUSES]

    @rx.var
    def can_trigger(self) -> bool:
        return self.role == "admin"

    @rx.event
    async def load(self) -> None:
        """Fetch the newest runs and the counts."""
        try:
            tenant_id = self._require("viewer")
        except Forbidden:
            return
        async with session_scope() as session:
            runs = await job_queries.list_job_runs(session, tenant_id=tenant_id, limit=PAGE_SIZE)
            self.counts = await job_queries.count_job_runs_by_status(session, tenant_id=tenant_id)
        self.runs = [job_row(job_run_public(run)) for run in runs]

    @rx.event
    async def trigger_ping(self) -> None:
        """Admins queue a diagnostic ping job."""
        try:
            tenant_id = self._require("admin")
        except Forbidden as exc:
            self.notice = exc.message
            return
        run = await enqueue_job("ping", tenant_id=tenant_id, triggered_by=self.actor, params={"delay": 0.2})
        async with session_scope() as session:
            await record_audit(
                session, tenant_id=tenant_id, actor=self.actor, action="job.trigger", target=f"ping #{run.id}"
            )
        self.notice = f"Queued ping #{run.id}."

    def _on_live_event(self, event: dict[str, Any]) -> None:
        """Insert or update the run in place and keep the counts in step."""
        row = job_row(event["data"])
        for index, old in enumerate(self.runs):
            if old["id"] == row["id"]:
                if old["status"] != row["status"]:
                    self.counts = {**self.counts, old["status"]: max(self.counts.get(old["status"], 1) - 1, 0),
                                   row["status"]: self.counts.get(row["status"], 0) + 1}
                self.runs = [*self.runs[:index], row, *self.runs[index + 1:]]
                return
        self.counts = {**self.counts, row["status"]: self.counts.get(row["status"], 0) + 1}
        self.runs = [row, *self.runs][:PAGE_SIZE]
