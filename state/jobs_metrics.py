"""The Jobs page's monitoring panel: counts per period, success rate, durations, queue, workers, cron."""

from __future__ import annotations

import time
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from jobs.runtime import monitor
from jobs.runtime.connections import get_redis
from jobs.worker import CRON_JOBS
from models.db import session_scope
from models.ops import JOB_STATUSES
from models.queries import job_metrics
from models.types import utcnow
from state.base import AppState, guarded
from state.live import listens_to

# Under a burst of job updates the panel re-reads its metrics at most this often.
LIVE_REFRESH_SECONDS = 2.0


def durations_figure(rows: list[dict[str, object]]) -> go.Figure:
    """p50 and p95 duration per job name, as grouped bars."""
    names = [str(r["name"]) for r in rows]
    figure = go.Figure([
        go.Bar(name="p50", x=names, y=[r["p50_seconds"] for r in rows]),
        go.Bar(name="p95", x=names, y=[r["p95_seconds"] for r in rows]),
    ])
    figure.update_layout(barmode="group", height=260, margin={"l": 40, "r": 10, "t": 10, "b": 40},
                         yaxis={"title": "seconds"}, template="plotly_white", legend={"orientation": "h"})
    return figure


@listens_to("job.updated")
class JobsMetricsState(AppState):
    period_rows: list[list[str]] = []
    queue_depth: int = 0
    workers: list[dict[str, str]] = []
    scheduled: list[dict[str, str]] = []
    durations: go.Figure = go.Figure()

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
        rows = []
        for period, counts in metrics["counts"].items():
            rate = metrics["success_rate"][period]
            rows.append([period, *(str(counts[s]) for s in JOB_STATUSES), "—" if rate is None else f"{rate:.0%}"])
        self.period_rows = rows
        self.durations = durations_figure(metrics["durations"])
        redis = get_redis()
        self.queue_depth = await monitor.queue_depth(redis)
        self.workers = [{"id": str(w["id"]), "last_seen": f"{w['seconds_ago']} s ago"}
                        for w in await monitor.live_workers(redis, now=now)]
        self.scheduled = monitor.cron_schedule(CRON_JOBS, now=now)
