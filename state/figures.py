"""Plotly figures built from plain rows (no I/O), for the states to hand to `rx.plotly`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import plotly.graph_objects as go

from models.namespaces import DEFAULT_CLUSTER
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
        # a trace per severity (a click's curveNumber names it), but the legend lists only the ones with bars,
        # each with its count: no legend entry for bars that are not there
        figure.add_trace(go.Bar(
            # a bar spans its bin from its start, so the ticks fall on whole hours and days
            x=[start.isoformat() for start, _ in bins], y=[n for _, n in bins],
            name=f"{severity} ({sum(n for _, n in bins):,})",
            width=[width_ms * 0.9] * len(bins), offset=width_ms * 0.05, marker={"color": SEVERITY_COLORS[severity]},
            customdata=[start.strftime("%Y-%m-%d %H:%M") for start, _ in bins],
            hovertemplate="%{y} " + severity + " from %{customdata} UTC<extra></extra>",
            showlegend=bool(bins),
        ))
    figure.update_layout(
        barmode="stack", height=300, autosize=True, margin={"l": 50, "r": 10, "t": 10, "b": 40},
        legend={"orientation": "h", "y": -0.25}, yaxis={"title": "open incidents", "rangemode": "tozero"},
        xaxis={"title": "first seen in the flows (UTC)", "type": "date",
               "range": [period.start.isoformat(), period.end.isoformat()]},
        clickmode="event", template="plotly_white", uirevision=period.key,
    )
    return figure


def coverage_place(row: Mapping[str, Any]) -> str:
    """How a coverage row's namespace is named: `namespace`, or `cluster/namespace` outside the cluster `default`
    (two clusters' namespaces of one name are two rows, issue 19 A4)."""
    cluster = str(row.get("cluster") or DEFAULT_CLUSTER)
    return str(row["namespace"]) if cluster == DEFAULT_CLUSTER else f"{cluster}/{row['namespace']}"


def coverage_figure(rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Horizontal bars: the percent of each namespace's observed edges that policies in force govern (a bar per
    `coverage_place`). A namespace with none covered gets no bar, so it says "0 of N edges covered" in words at
    zero; when no namespace has any, the plot says so instead of showing an empty frame."""
    names = [coverage_place(r) for r in rows]
    percents = [float(r["percent"]) for r in rows]
    texts = [f"{int(r['covered']):,} of {int(r['edges']):,} edges" + (" covered" if not int(r["covered"]) else "")
             for r in rows]
    figure = go.Figure(go.Bar(
        x=percents, y=names, orientation="h", text=texts, textposition="outside", cliponaxis=False,
        marker={"color": "#2f7d5b"}, hovertemplate="%{y}: %{x}% of edges covered<extra></extra>",
    ))
    figure.update_layout(height=max(160, 40 + 28 * len(rows)), margin={"l": 10, "r": 10, "t": 10, "b": 30},
                         xaxis={"range": [0, 100], "title": "% of observed edges under approved policies"},
                         template="plotly_white")
    if rows and not any(percents):
        # Above the plot, not over it: the bars' "0 of N edges covered" labels sit where its middle would be.
        figure.add_annotation(text="No data to draw: no approved or deployed policy covers any edge yet",
                              xref="paper", yref="paper", x=0, xanchor="left", y=1, yanchor="bottom",
                              showarrow=False, font={"size": 13})
        figure.update_layout(margin={"t": 30})
    return figure
