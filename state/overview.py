"""The Overview page: KPIs, the live drift timeline, top risks."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import reflex as rx
from reflex_base.event import EventSpec

from models.db import session_scope
from models.public.drift import DriftEventPublic
from models.queries import drift as drift_queries
from models.queries import drift_stats
from state.base import AppState, guarded
from state.figures import timeline_figure
from state.live import listens_to

TIMELINE_POINTS = 1000
TOP = 10


def risk_row(event: dict[str, Any]) -> dict[str, str]:
    """An event as the top-risks list shows it."""
    port = f":{event['dst_port']}" if event.get("dst_port") is not None else ""
    return {"id": str(event["id"]), "kind": event["kind"], "severity": event["severity"], "risk": str(event["risk"]),
            "path": f"{event['src']} → {event['dst']}{port}/{event.get('protocol') or ''}",
            "explanation": event.get("explanation", "")}


def _kpi_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str) and "T" in value:
        return value[:16].replace("T", " ") + " UTC"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _bump(text: str, by: int) -> str:
    current = int(text.replace(",", "")) if text.replace(",", "").isdigit() else 0
    return f"{current + by:,}"


def _point(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event.get(k) for k in ("id", "kind", "severity", "risk", "src", "dst", "dst_port", "window_start")}


@listens_to("drift.created")
class OverviewState(AppState):
    kpis: dict[str, str] = {}
    top_risks: list[dict[str, str]] = []
    timeline: go.Figure = go.Figure()
    _points: list[dict[str, Any]] = []
    _timeline_ids: list[list[int]] = []

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """KPIs, the newest high-risk events for the timeline, and the top open risks."""
        tenant_id = self._tenant_id
        async with session_scope() as session:
            kpis = await drift_stats.drift_kpis(session, tenant_id=tenant_id)
            recent, _ = await drift_queries.list_events(session, tenant_id=tenant_id, sort="created_at",
                                                        limit=TIMELINE_POINTS)
            top, _ = await drift_queries.list_events(session, tenant_id=tenant_id, status="open", limit=TOP)
        self.kpis = {k: _kpi_text(v) for k, v in kpis.items()}
        self._points = [_point(DriftEventPublic.of(e).model_dump()) for e in recent]
        self.top_risks = [risk_row(DriftEventPublic.of(e).model_dump()) for e in top]
        self._redraw()

    def _redraw(self) -> None:
        self.timeline, self._timeline_ids = timeline_figure(self._points)

    @rx.event
    @guarded("viewer")
    def open_point(self, points: list[dict[str, Any]]) -> EventSpec | None:
        """A click on the timeline opens that event on the Drift page."""
        if not points:
            return None
        curve, index = points[0].get("curveNumber"), points[0].get("pointNumber")
        try:
            event_id = self._timeline_ids[int(curve)][int(index)]  # type: ignore[arg-type]
        except (IndexError, TypeError, ValueError):
            return None
        return rx.redirect(f"/drift?event={event_id}")

    def _on_live_event(self, event: dict[str, Any]) -> None:
        """New events join the timeline and, when they rank, the top risks; KPIs move with them."""
        data = event.get("data", {})
        fresh = data.get("events", [data] if "kind" in data else [])
        if not fresh:
            return
        self._points = [*(_point(e) for e in fresh), *self._points][:TIMELINE_POINTS]
        ranked = sorted([*self.top_risks, *(risk_row(e) for e in fresh if e.get("status") == "open")],
                        key=lambda r: -float(r["risk"]))
        self.top_risks = ranked[:TOP]
        opened = sum(e.get("status") == "open" for e in fresh)
        high = sum(e.get("status") == "open" and e.get("severity") in ("high", "critical") for e in fresh)
        self.kpis = {**self.kpis, "open": _bump(self.kpis.get("open", "0"), opened),
                     "open_high": _bump(self.kpis.get("open_high", "0"), high)}
        self._redraw()
