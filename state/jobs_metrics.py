"""The Jobs page's monitoring panel: counts per period, success rate, durations, queue, workers, cron."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from jobs.runtime import monitor
from jobs.runtime.connections import get_redis
from jobs.runtime.queues import CRON_QUEUE_OF, label_of
from jobs.worker import CRON_JOBS
from models.db import session_scope
from models.ops import JOB_STATUSES
from models.queries import job_metrics
from models.queries import jobs as job_queries
from models.types import utcnow
from state.base import AppState, guarded
from state.live import listens_to

# Under a burst of job updates the panel re-reads its metrics at most this often.
LIVE_REFRESH_SECONDS = 2.0


STATUS_COLORS = {"succeeded": "#30a46c", "failed": "#e5484d", "cancelled": "#8b8d98", "lost": "#f76b15"}


def rate_label(counts: dict[str, int]) -> str:
    """Succeeded of finished runs as "99.6 % (498 of 500)": 100 % only when every finished run succeeded."""
    finished = sum(counts[s] for s in job_metrics.FINAL_STATUSES)
    if not finished:
        return "—"
    succeeded = counts["succeeded"]
    if succeeded == finished:
        return f"100 % ({finished:,} of {finished:,})"
    # Rounded down: 499 of 500 is 99.8 %, 9,999 of 10,000 is 99.9 %, never 100 %.
    tenths = succeeded * 1000 // finished
    return f"{tenths / 10:.1f} % ({succeeded:,} of {finished:,})"


def throughput_figure(series: dict[str, list[int]]) -> go.Figure:
    """Runs finished per minute over the last hour, stacked by final status."""
    # plotly.js reads no UTC offset in a date: naive UTC times, the axis says UTC
    minutes = [datetime.fromtimestamp(m, tz=UTC).strftime("%Y-%m-%d %H:%M") for m in series["minutes"]]
    figure = go.Figure([go.Bar(name=status, x=minutes, y=series[status], marker_color=color)
                        for status, color in STATUS_COLORS.items()])
    figure.update_layout(barmode="stack", height=220, margin={"l": 40, "r": 10, "t": 10, "b": 30},
                         yaxis={"title": "runs / min", "rangemode": "tozero"},
                         template="plotly_white", legend={"orientation": "h", "traceorder": "normal"},
                         autosize=True)
    return figure


def durations_figure(rows: list[dict[str, object]]) -> go.Figure:
    """p50 and p95 duration per job name, as grouped bars."""
    names = [str(r["name"]) for r in rows]
    figure = go.Figure([
        go.Bar(name="p50", x=names, y=[r["p50_seconds"] for r in rows]),
        go.Bar(name="p95", x=names, y=[r["p95_seconds"] for r in rows]),
    ])
    figure.update_layout(barmode="group", height=260, margin={"l": 40, "r": 10, "t": 10, "b": 40},
                         yaxis={"title": "seconds"}, template="plotly_white", legend={"orientation": "h"},
                         autosize=True)
    return figure


def until_label(moment: datetime, now: datetime) -> str:
    """When a cron entry runs next, as people read it: "in 45 s · 08:45:30 UTC", "in 2 min · 08:47 UTC"."""
    seconds = max((moment - now).total_seconds(), 0.0)
    if seconds < 60:
        return f"in {seconds:.0f} s · {moment:%H:%M:%S} UTC"
    if seconds < 3600:
        return f"in {seconds / 60:.0f} min · {moment:%H:%M} UTC"
    hours, minutes = divmod(round(seconds / 60), 60)
    day = "" if moment.date() == now.date() else f"{moment:%a} "
    return f"in {hours} h {minutes} min · {day}{moment:%H:%M} UTC"


def scheduled_rows(schedule: list[dict[str, str]], now: datetime) -> list[dict[str, str]]:
    """Each cron entry with its queue and when it runs next (see until_label)."""
    return [{"name": entry["name"], "queue": label_of(CRON_QUEUE_OF.get(entry["name"], "")),
             "when": until_label(datetime.fromisoformat(entry["next_run"]), now) if entry["next_run"] else "never"}
            for entry in schedule]


def queue_rows(depths: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Per queue: its name and what its counts mean, for the panel."""
    return [{"queue": str(q["queue"]), "due": f"{q['due']:,}", "deferred": f"{q['deferred']:,}"} for q in depths]


@listens_to("job.updated")
class JobsMetricsState(AppState):
    period_rows: list[list[str]] = []
    queue_depth: int = 0
    queues: list[dict[str, str]] = []
    workers: list[dict[str, str]] = []
    scheduled: list[dict[str, str]] = []
    durations: go.Figure = go.Figure()
    throughput: go.Figure = go.Figure()
    # This tenant's runs now waiting, retrying or running (all time), beside the shared queue's depth.
    waiting: str = ""

    _loaded_at: float = 0.0

    @rx.event
    @guarded("viewer")
    async def load_metrics(self) -> None:
        """Read the tenant's run metrics and the workers' state."""
        await self._load_metrics()

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """Job updates move the counts: re-read them, at most once per LIVE_REFRESH_SECONDS."""
        if self.period_rows and time.monotonic() - self._loaded_at >= LIVE_REFRESH_SECONDS:
            await self._load_metrics()

    async def _load_metrics(self) -> None:
        self._loaded_at = time.monotonic()
        tenant_id = self._tenant_id
        now = utcnow()
        async with session_scope() as session:
            metrics = await job_metrics.run_metrics(session, tenant_id=tenant_id, now=now)
            series = await job_metrics.throughput(session, tenant_id=tenant_id, now=now)
            current = await job_queries.count_job_runs_by_status(session, tenant_id=tenant_id)
        self.period_rows = [[period, *(str(counts[s]) for s in JOB_STATUSES), rate_label(counts)]
                            for period, counts in metrics["counts"].items()]
        self.durations = durations_figure(metrics["durations"])
        self.throughput = throughput_figure(series)
        self.waiting = (f"{current['queued']} waiting, {current['retrying']} waiting to retry, "
                        f"{current['running']} running")
        redis = get_redis()
        depths = await monitor.queue_depths(redis)
        self.queue_depth = sum(int(q["depth"]) for q in depths)
        self.queues = queue_rows(depths)
        self.workers = [{"id": str(w["id"]), "queues": str(w["queues"] or "queues unknown"),
                         "last_seen": f"seen {w['seconds_ago']:.0f} s ago"}
                        for w in await monitor.live_workers(redis, now=now)]
        self.scheduled = scheduled_rows(monitor.cron_schedule(CRON_JOBS, now=now), now)
