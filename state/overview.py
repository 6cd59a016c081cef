"""The Overview page: incident KPIs, the timeline of open incidents (the ones the KPIs count) over a period picked
in the URL, the top incidents; live on `incident.changed`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go
import reflex as rx
from reflex_base.event import EventSpec

from models.db import session_scope
from models.drift import SEVERITIES
from models.errors import Invalid
from models.public.incidents import IncidentPublic
from models.queries import drift_stats
from models.queries import incidents as incident_queries
from state.base import AppState, guarded
from state.drift import day_bounds
from state.figures import incident_bars_figure
from state.incidents import incident_row, when
from state.live import listens_to
from state.timeline import DEFAULT_PERIOD, PERIOD_LABELS, PERIODS, Period, bin_counts, period_of, span_text, total

TOP = 10
DAY = timedelta(hours=24)
# the newest window's own incidents are reported within it (windows are at most an hour)
WINDOW_SLACK = timedelta(hours=1)


def incident_kpis(counts: Mapping[str, Any], *, last_snapshot_at: Any = None) -> dict[str, str]:
    """The KPI cards' texts: open incidents in all and per severity (they add up), the last 24 h, the last snapshot."""
    open_by = {s: int(counts.get("open", {}).get(s, 0)) for s in SEVERITIES}
    kpis = {f"open_{s}": f"{n:,}" for s, n in open_by.items()}
    kpis["open"] = f"{int(counts.get('open_total', sum(open_by.values()))):,}"
    kpis["last_24h"] = f"{int(counts.get('since', 0)):,}"
    kpis["last_snapshot_at"] = when(last_snapshot_at) if last_snapshot_at else "none yet"
    return kpis


def data_end(last_window_start: str | None) -> datetime:
    """Where "the last day" and the timeline end: now, or the end of the newest snapshot when the flows are older
    (a replayed capture), so its incidents count and show rather than reading as nothing."""
    now = datetime.now(UTC)
    return min(now, datetime.fromisoformat(last_window_start) + WINDOW_SLACK) if last_window_start else now


def period_from(params: Mapping[str, str]) -> tuple[str, str, str, str]:
    """The period a URL asks for: (key, from day, to day, what was refused). `?period=30d`, `?from=…&to=…`."""
    since, until = str(params.get("from", "")).strip(), str(params.get("to", "")).strip()
    if since or until:
        return "custom", since[:10], until[:10], ""
    key = str(params.get("period", DEFAULT_PERIOD)).strip()
    if key in PERIODS:
        return key, "", "", ""
    return DEFAULT_PERIOD, "", "", f"Ignored from the link: unknown period {key[:20]!r}."


def period_query(key: str, since: str, until: str) -> str:
    """`?…` for the period (nothing for the default)."""
    if key == "custom":
        return "?" + urlencode({"from": since, "to": until})
    return "" if key == DEFAULT_PERIOD else "?" + urlencode({"period": key})


@listens_to("incident.changed")
class OverviewState(AppState):
    kpis: dict[str, str] = {}
    top_incidents: list[dict[str, str]] = []
    timeline: go.Figure = go.Figure()
    # Open incidents on the timeline, open in all (the KPI), and of any status and time, for honest empty states.
    plotted: int = 0
    open_total: int = 0
    recorded: int = 0
    # The picker: "24h", "7d", "30d", "all" or "custom" with its days; what the axis spans; a refusal.
    period: str = DEFAULT_PERIOD
    since_day: str = ""
    until_day: str = ""
    period_label: str = ""
    period_message: str = ""

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """KPIs, the timeline of open incidents over the period in the URL, the top 10 open incidents."""
        self.period, self.since_day, self.until_day, self.period_message = period_from(
            self.router.url.query_parameters)
        await self._read()

    @rx.event
    @guarded("viewer")
    async def pick_period(self, form: dict[str, Any]) -> EventSpec:
        """The picker: a preset, or custom days (whole UTC days, from = to is one day); the URL follows."""
        key = str(form.get("period", DEFAULT_PERIOD))
        self.since_day, self.until_day = str(form.get("from", "")).strip(), str(form.get("to", "")).strip()
        self.period = key if key in PERIOD_LABELS else DEFAULT_PERIOD
        if self.period != "custom":
            self.since_day = self.until_day = ""
        self.period_message = ""
        await self._read()
        return rx.call_script("window.history.replaceState(null, '', '/overview' + "
                              f"{json.dumps(period_query(self.period, self.since_day, self.until_day))})")

    async def _read(self) -> None:
        tenant_id = self._tenant_id
        async with session_scope() as session:
            drift = await drift_stats.drift_kpis(session, tenant_id=tenant_id)
            now = data_end(drift.get("last_snapshot_at"))
            counts = await incident_queries.incident_counts(session, tenant_id=tenant_id, since=now - DAY)
            top, _ = await incident_queries.list_incidents(session, tenant_id=tenant_id, status="open", limit=TOP)
            _, self.recorded = await incident_queries.list_incidents(session, tenant_id=tenant_id, limit=1)
            oldest, newest = await drift_stats.open_incident_extent(session, tenant_id=tenant_id)
            period = self._period(now, oldest, newest)
            starts = [] if period is None else await drift_stats.open_incident_starts(
                session, tenant_id=tenant_id, since=period.start, until=period.end)
        self.kpis = incident_kpis(counts, last_snapshot_at=drift.get("last_snapshot_at"))
        self.open_total = int(counts.get("open_total", 0))
        self.top_incidents = [incident_row(IncidentPublic.of(r).model_dump()) for r in top]
        if period is None:
            self.plotted, self.period_label, self.timeline = 0, "", go.Figure()
            return
        axis = period.fitted(when for when, _ in starts)
        binned = bin_counts(starts, axis)
        self.timeline, self.plotted = incident_bars_figure(binned, axis), total(binned)
        shown = (f"; shown {axis.start:%Y-%m-%d %H:%M} – {axis.end:%Y-%m-%d %H:%M}, where they start"
                 if axis != period else "")
        self.period_label = f"{period.label}{shown}; bars of {span_text(axis.bin)}"

    def _period(self, now: datetime, oldest: datetime | None, newest: datetime | None) -> Period | None:
        """The period shown, ending at the newest data (the last snapshot, or a newer incident); None (with a
        message) for custom days that cannot be read."""
        end = max(now, newest.astimezone(UTC)) if newest else now
        try:
            since, until = day_bounds(self.since_day, self.until_day) if self.period == "custom" else (None, None)
            return period_of(self.period, newest=end, oldest=oldest, start=since, end=until)
        except Invalid as exc:
            self.period_message = exc.message
            return None

    @rx.event
    @guarded("viewer")
    def open_point(self, points: list[dict[str, Any]]) -> EventSpec | None:
        """A click on a bar opens the Drift page's open incidents of that severity."""
        if not points:
            return None
        try:
            # one trace per severity, in SEVERITIES order (state.figures.incident_bars_figure)
            severity = SEVERITIES[int(points[0].get("curveNumber"))]  # type: ignore[arg-type]
        except (IndexError, TypeError, ValueError):
            return None
        return rx.redirect(f"/drift?severity={severity}")

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """Incidents changed: KPIs, timeline and top 10 are read again (a fold moves ranks, so nothing is spliced)."""
        await self._read()
