"""Plotly figures built from plain rows (no I/O), for the states to hand to `rx.plotly`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import plotly.graph_objects as go

from state.timeline import Period

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_COLORS = {"critical": "#b3261e", "high": "#e8590c", "medium": "#f2b705", "low": "#4c8bf5", "info": "#9aa0a6"}


def incident_bars_figure(binned: Mapping[str, list[tuple[datetime, int]]], period: Period) -> go.Figure:
    """Open incidents per bin of first-seen time, stacked by severity (critical at the bottom); the x axis spans
    the period exactly, so a few days of data fill the plot instead of a stripe in years."""
    figure = go.Figure()
    width_ms = period.bin.total_seconds() * 1000
    for severity in SEVERITIES:
        bins = binned.get(severity, [])
        figure.add_trace(go.Bar(
            # a bar spans its bin from its start, so the ticks fall on whole hours and days
            x=[start.isoformat() for start, _ in bins], y=[n for _, n in bins], name=severity,
            width=[width_ms * 0.9] * len(bins), offset=width_ms * 0.05, marker={"color": SEVERITY_COLORS[severity]},
            customdata=[start.strftime("%Y-%m-%d %H:%M") for start, _ in bins],
            hovertemplate="%{y} " + severity + " from %{customdata} UTC<extra></extra>",
            showlegend=True,
        ))
    figure.update_layout(
        barmode="stack", height=300, autosize=True, margin={"l": 50, "r": 10, "t": 10, "b": 40},
        legend={"orientation": "h", "y": -0.25}, yaxis={"title": "open incidents", "rangemode": "tozero"},
        xaxis={"title": "first seen in the flows (UTC)", "type": "date",
               "range": [period.start.isoformat(), period.end.isoformat()]},
        clickmode="event", template="plotly_white", uirevision=period.key,
    )
    return figure
