"""The Jobs page's runs table: server-side paging, filters, live status, the diagnostic ping."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import reflex as rx

from jobs.runtime.queue import enqueue_job
from models.db import session_scope
from models.ops import JOB_STATUSES
from models.public.ops import JobRunPublic
from models.queries import job_metrics
from models.queries import jobs as job_queries
from models.queries.audit import record_audit
from models.types import utcnow
from state.base import AppState, guarded
from state.live import listens_to

PAGE_SIZE = 20
PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}


def _clock(stamp: str | None) -> str:
    return datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M:%S") if stamp else ""


def _duration(run: dict[str, Any]) -> str:
    if not run.get("started_at") or not run.get("finished_at"):
        return ""
    seconds = (datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])).total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def error_label(error: str) -> str:
    """A run's error as the table shows it: a permanent failure says so in words, not as an exception's name."""
    if error.startswith(job_queries.PERMANENT_PREFIX):
        return "permanent: " + error.removeprefix(job_queries.PERMANENT_PREFIX)
    return error


def progress_label(status: str, fraction: float, message: str) -> tuple[str, str]:
    """(progress, note) as true for the run's status now: a finished run does not show its last step as current."""
    percent = f"{round(fraction * 100)}%"
    if status == "succeeded":
        return "100%", ""
    if status == "queued":
        return "not started", ""
    if status in ("running", "retrying"):
        return percent, message
    return f"stopped at {percent}", (f"last step: {message}" if message else "")


def job_row(run: dict[str, Any]) -> dict[str, str]:
    """A job run as the table shows it (strings only)."""
    progress, note = progress_label(run["status"], float(run["progress"]), run.get("progress_message") or "")
    return {
        "id": str(run["id"]),
        "name": run["name"],
        "status": run["status"],
        "triggered_by": run["triggered_by"],
        "attempts": str(run["attempts"]),
        "progress": progress,
        "message": note,
        "error": error_label(run.get("error") or ""),
        "enqueued_at": _clock(run.get("enqueued_at")),
        "duration": _duration(run),
        "retry_of": str(run.get("retry_of") or ""),
    }


@listens_to("job.updated")
class JobsState(AppState):
    runs: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    notice: str = ""
    page: int = 0
    total: int = 0
    filter_status: str = "all"
    filter_name: str = "all"
    filter_trigger: str = ""
    filter_period: str = "all"
    sort: str = "newest"
    names: list[str] = []

    @rx.var
    def status_counts(self) -> list[list[str]]:
        """(status, count) pairs in a fixed order, for the summary badges."""
        return [[status, str(self.counts.get(status, 0))] for status in JOB_STATUSES]

    @rx.var
    def can_trigger(self) -> bool:
        return self.role == "admin"

    @rx.var
    def page_label(self) -> str:
        """"41–60 of 230" for the pager."""
        if not self.total:
            return "0 runs"
        first = self.page * PAGE_SIZE + 1
        return f"{first}–{min(first + PAGE_SIZE - 1, self.total)} of {self.total}"

    def _where(self) -> job_queries.RunFilter:
        return job_queries.RunFilter(
            status=None if self.filter_status == "all" else self.filter_status,
            name=None if self.filter_name == "all" else self.filter_name,
            trigger=self.filter_trigger.strip() or None,
            since=utcnow() - PERIODS[self.filter_period] if self.filter_period in PERIODS else None,
        )

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """Fetch the current page of runs (with the filters), the total and the counts."""
        await self._load()

    async def _load(self) -> None:
        tenant_id = self._tenant_id
        where = self._where()
        async with session_scope() as session:
            self.total = await job_queries.count_job_runs(session, tenant_id=tenant_id, where=where)
            self.page = min(self.page, max(self.total - 1, 0) // PAGE_SIZE)
            runs = await job_queries.list_job_runs(session, tenant_id=tenant_id, where=where, limit=PAGE_SIZE,
                                                   offset=self.page * PAGE_SIZE, sort=self.sort)
            self.counts = await job_queries.count_job_runs_by_status(session, tenant_id=tenant_id)
            self.names = ["all", *await job_metrics.job_names(session, tenant_id=tenant_id)]
        self.runs = [job_row(JobRunPublic.of(run).model_dump()) for run in runs]

    @rx.event
    @guarded("viewer")
    async def set_filter_status(self, value: str) -> None:
        """Narrow the table to one status ("all" for every status)."""
        self.filter_status, self.page = (value if value in JOB_STATUSES else "all"), 0
        await self._load()

    @rx.event
    @guarded("viewer")
    async def set_filter_name(self, value: str) -> None:
        """Narrow the table to one job name."""
        self.filter_name, self.page = value, 0
        await self._load()

    @rx.event
    @guarded("viewer")
    async def set_filter_trigger(self, value: str) -> None:
        """Narrow the table to runs whose trigger contains the text."""
        self.filter_trigger, self.page = value[:100], 0
        await self._load()

    @rx.event
    @guarded("viewer")
    async def set_filter_period(self, value: str) -> None:
        """Only runs queued in the last hour, day or week ("all" for every run)."""
        self.filter_period, self.page = (value if value in PERIODS else "all"), 0
        await self._load()

    @rx.event
    @guarded("viewer")
    async def set_sort(self, value: str) -> None:
        """Order the table (newest, oldest, name, status, attempts)."""
        self.sort, self.page = (value if value in job_queries.RUN_SORTS else "newest"), 0
        await self._load()

    @rx.event
    @guarded("viewer")
    async def turn_page(self, step: int) -> None:
        """Next (1) or previous (-1) page."""
        self.page = max(self.page + step, 0)
        await self._load()

    @rx.event
    @guarded("admin")
    async def trigger_ping(self) -> None:
        """Admins queue a diagnostic ping job."""
        tenant_id = self._tenant_id
        run = await enqueue_job("ping", tenant_id=tenant_id, triggered_by=self.actor, params={"delay": 0.2})
        async with session_scope() as session:
            await record_audit(
                session, tenant_id=tenant_id, actor=self.actor, action="job.trigger", target=f"ping #{run.id}"
            )
        self.notice = f"Queued ping #{run.id}."

    def _matches(self, row: dict[str, str]) -> bool:
        where = self._where()
        return ((where.status is None or row["status"] == where.status)
                and (where.name is None or row["name"] == where.name)
                and (where.trigger is None or where.trigger.lower() in row["triggered_by"].lower()))

    def _on_live_event(self, event: dict[str, Any]) -> None:
        """Update the run in place (or add it on the first page when it matches) and keep the counts in step."""
        row = job_row(event["data"])
        for index, old in enumerate(self.runs):
            if old["id"] == row["id"]:
                if old["status"] != row["status"]:
                    self.counts = {**self.counts, old["status"]: max(self.counts.get(old["status"], 1) - 1, 0),
                                   row["status"]: self.counts.get(row["status"], 0) + 1}
                self.runs = [*self.runs[:index], row, *self.runs[index + 1:]]
                return
        self.counts = {**self.counts, row["status"]: self.counts.get(row["status"], 0) + 1}
        if self.page == 0 and self.sort == "newest" and self._matches(row):
            self.total += 1
            self.runs = [row, *self.runs][:PAGE_SIZE]
