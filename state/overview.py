"""The Overview page: incident KPIs, the incident timeline, the top incidents; live on `incident.changed`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import plotly.graph_objects as go
import reflex as rx
from reflex_base.event import EventSpec

from models.db import session_scope
from models.drift import SEVERITIES
from models.public.incidents import IncidentPublic
from models.queries import drift_stats
from models.queries import incidents as incident_queries
from state.base import AppState, guarded
from state.figures import incident_timeline_figure
from state.incidents import incident_row, when
from state.live import listens_to

TIMELINE_DAYS = 7
TIMELINE_POINTS = 1000
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


def timeline_point(incident: Mapping[str, Any]) -> dict[str, Any]:
    """What the timeline draws of an incident (`IncidentPublic` as a dict)."""
    return {"id": incident["id"], "severity": incident["severity"], "score": float(incident["score"]),
            "kind": incident["kind"], "status": incident["status"], "events": int(incident["events"]),
            "summary": incident["summary"], "first_reported": incident["first_reported"]}


@listens_to("incident.changed")
class OverviewState(AppState):
    kpis: dict[str, str] = {}
    top_incidents: list[dict[str, str]] = []
    timeline: go.Figure = go.Figure()
    # Incidents on the timeline, and of any status and time, for honest empty states.
    plotted: int = 0
    recorded: int = 0
    _timeline_ids: list[list[int]] = []

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """KPIs, the timeline of the last days' incidents and the top 10 open incidents in rank order."""
        await self._read()

    async def _read(self) -> None:
        tenant_id = self._tenant_id
        async with session_scope() as session:
            drift = await drift_stats.drift_kpis(session, tenant_id=tenant_id)
            now = data_end(drift.get("last_snapshot_at"))
            counts = await incident_queries.incident_counts(session, tenant_id=tenant_id, since=now - DAY)
            top, _ = await incident_queries.list_incidents(session, tenant_id=tenant_id, status="open", limit=TOP)
            _, self.recorded = await incident_queries.list_incidents(session, tenant_id=tenant_id, limit=1)
            recent, _ = await incident_queries.list_incidents(session, tenant_id=tenant_id,
                                                              since=now - timedelta(days=TIMELINE_DAYS),
                                                              limit=TIMELINE_POINTS)
        self.kpis = incident_kpis(counts, last_snapshot_at=drift.get("last_snapshot_at"))
        self.top_incidents = [incident_row(IncidentPublic.of(r).model_dump()) for r in top]
        points = [timeline_point(IncidentPublic.of(r).model_dump()) for r in recent]
        self.timeline, self._timeline_ids = incident_timeline_figure(points)
        self.plotted = len(points)

    @rx.event
    @guarded("viewer")
    def open_point(self, points: list[dict[str, Any]]) -> EventSpec | None:
        """A click on the timeline opens that incident on the Drift page."""
        if not points:
            return None
        curve, index = points[0].get("curveNumber"), points[0].get("pointNumber")
        try:
            incident_id = self._timeline_ids[int(curve)][int(index)]  # type: ignore[arg-type]
        except (IndexError, TypeError, ValueError):
            return None
        return rx.redirect(f"/drift?incident={incident_id}")

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """Incidents changed: KPIs, timeline and top 10 are read again (a fold moves ranks, so nothing is spliced)."""
        await self._read()
