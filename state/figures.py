"""Plotly figures built from plain rows (no I/O), for the states to hand to `rx.plotly`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from jobs.engines.graph.figure import plot_text

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_COLORS = {"critical": "#b3261e", "high": "#e8590c", "medium": "#f2b705", "low": "#4c8bf5", "info": "#9aa0a6"}


def timeline_figure(points: Sequence[dict[str, Any]]) -> tuple[go.Figure, list[list[int]]]:
    """Events over time (x = window, y = risk), one trace per severity.

    Returns the figure and, per trace, the event ids in point order, so a click (curve, point)
    maps back to an event without sending ids to the browser as data.
    """
    figure = go.Figure()
    ids: list[list[int]] = []
    for severity in SEVERITIES:
        rows = [p for p in points if p["severity"] == severity]
        ids.append([int(p["id"]) for p in rows])
        figure.add_trace(go.Scattergl(
            x=[p["window_start"] for p in rows], y=[p["risk"] for p in rows], mode="markers", name=severity,
            marker={"color": SEVERITY_COLORS[severity], "size": 9, "opacity": 0.8},
            text=[plot_text(f"{p['kind']}: {p['src']} → {p['dst']}:{p['dst_port'] or ''}") for p in rows],
            hovertemplate="%{text}<br>risk %{y}<br>%{x}<extra>" + severity + "</extra>",
        ))
    figure.update_layout(
        height=320, autosize=True, margin={"l": 40, "r": 10, "t": 10, "b": 40}, legend={"orientation": "h", "y": -0.2},
        yaxis={"title": "risk", "range": [0, 105]}, xaxis={"title": "window (UTC)"}, clickmode="event",
        template="plotly_white", uirevision="timeline",
    )
    return figure, ids


def incident_timeline_figure(points: Sequence[dict[str, Any]]) -> tuple[go.Figure, list[list[int]]]:
    """Incidents at their first report (x) by score (y), one trace per severity; a marker grows with the
    incident's events. Returns the figure and, per trace, the incident ids in point order (as `timeline_figure`)."""
    figure = go.Figure()
    ids: list[list[int]] = []
    for severity in SEVERITIES:
        rows = [p for p in points if p["severity"] == severity]
        ids.append([int(p["id"]) for p in rows])
        figure.add_trace(go.Scatter(
            x=[p["first_reported"] for p in rows], y=[p["score"] for p in rows], mode="markers", name=severity,
            marker={"color": SEVERITY_COLORS[severity], "size": [_marker_size(p["events"]) for p in rows],
                    "opacity": 0.85, "line": {"width": 1, "color": "white"}},
            text=[plot_text(f"{p['kind'].replace('_', ' ')} ({p['status']}, {p['events']:,} events): "
                            f"{_shorten(p['summary'])}") for p in rows],
            hovertemplate="%{text}<br>score %{y}<br>first reported %{x}<extra>" + severity + "</extra>",
        ))
    figure.update_layout(
        height=320, autosize=True, margin={"l": 40, "r": 10, "t": 10, "b": 40}, legend={"orientation": "h", "y": -0.2},
        yaxis={"title": "score", "range": [0, 105]}, xaxis={"title": "first reported (UTC)"}, clickmode="event",
        template="plotly_white", uirevision="incidents",
    )
    return figure, ids


def _marker_size(events: int) -> float:
    # 8 px for one event, +4 px per tenfold more, at most 24
    return min(24.0, 8.0 + 4.0 * math.log10(max(events, 1)))


def _shorten(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
