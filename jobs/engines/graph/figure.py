"""A GraphView as plotly traces: all edges of a style in one line trace (None separators) with an arrowhead
trace pointing at each destination, one node trace per kind, one hover trace for edge midpoints, one ring
trace for search matches. Labels are drawn only where they do not collide (labels.py)."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType

from jobs.engines.graph.labels import labelled, marker_px, scale, short
from jobs.engines.graph.layout import SPACING
from jobs.engines.graph.model import GraphView, ViewEdge, ViewNode

WEBGL_FROM = 1000
# where along an edge its arrowhead sits (from the source): near the destination, clear of its marker
ARROW_AT = 0.72
ARROW_PX = 10
# hover texts dominate the payload: past these counts only the heaviest edges and bare keys carry them
EDGE_HOVER_MAX = 1500
RICH_NODE_HOVER_MAX = 1000
EDGE_STYLES = {
    "normal": {"color": "#9aa0a6", "width": 1, "dash": "solid", "name": "edges"},
    "added": {"color": "#2b8a3e", "width": 3, "dash": "solid", "name": "added edge"},
    "removed": {"color": "#c92a2a", "width": 2, "dash": "dash", "name": "removed edge"},
    "drift": {"color": "#e8590c", "width": 4, "dash": "solid", "name": "edge with drift"},
}
NODE_KINDS = {"home": ("#1971c2", "circle"), "workload": ("#4c6ef5", "circle"),
              "home group": ("#1971c2", "hexagon"), "external": ("#c2255c", "diamond"),
              "outside group": ("#e8590c", "hexagon")}
STATUS_LINE = {"same": "#ffffff", "added": "#2b8a3e", "removed": "#c92a2a"}


def _r(value: float) -> float:
    return round(value, 1)


def plot_text(value: object) -> str:
    """`value` as plotly text: plotly renders `<a href>`, `<span style>` and `<br>` in text, and names come from
    uploaded flows, so `&`, `<` and `>` become entities (shown as themselves)."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _scatter(webgl: bool, **kwargs: Any) -> dict[str, Any]:
    """A trace as plain data: the figure is built without plotly's per-value validation (most of the time of a
    5,000-node view went there), so what goes in is only what these builders make."""
    return {"type": "scattergl" if webgl else "scatter", **{k: v for k, v in kwargs.items() if v is not None}}


def _edge_text(e: ViewEdge) -> str:
    change = f"<br>{EDGE_STYLES[e.style]['name']}" if e.style != "normal" else ""
    return (f"{plot_text(e.src)} → {plot_text(e.dst)}<br>ports {plot_text(e.ports)} · {plot_text(e.protocol)}"
            f"<br>{e.bytes:,} bytes · {e.flows:,} flows{change}")


def _edge_traces(view: GraphView, at: dict[str, ViewNode], webgl: bool) -> list[Any]:
    traces: list[Any] = []
    for style, look in EDGE_STYLES.items():
        edges = [e for e in view.edges if e.style == style]
        if not edges:
            continue
        xs: list[float | None] = []
        ys: list[float | None] = []
        for e in edges:
            xs += [_r(at[e.src].x), _r(at[e.dst].x), None]
            ys += [_r(at[e.src].y), _r(at[e.dst].y), None]
        traces.append(_scatter(webgl, x=xs, y=ys, mode="lines", name=look["name"], hoverinfo="skip",
                               line={"color": look["color"], "width": look["width"], "dash": look["dash"]}))
        arrows = _chevrons if webgl else _arrows
        traces.append(arrows(edges, at, webgl, str(look["color"]), str(look["name"])))
    if view.edges:
        hovered = view.edges[:EDGE_HOVER_MAX]  # the view lists edges heaviest first
        mids = [((at[e.src].x + at[e.dst].x) / 2, (at[e.src].y + at[e.dst].y) / 2) for e in hovered]
        traces.append(_scatter(webgl, x=[_r(m[0]) for m in mids], y=[_r(m[1]) for m in mids], mode="markers",
                               name="edge info", showlegend=False, marker={"size": 7, "opacity": 0.0},
                               text=[_edge_text(e) for e in hovered], hovertemplate="%{text}<extra></extra>"))
    return traces


def _arrows(edges: list[ViewEdge], at: dict[str, ViewNode], webgl: bool, color: str, name: str) -> Any:
    """One arrowhead per edge, part way to its destination, turned along the edge (plotly's marker angle is
    clockwise from up; the axes share one scale, so data angles are screen angles)."""
    xs, ys, angles = [], [], []
    for e in edges:
        a, b = at[e.src], at[e.dst]
        xs.append(_r(a.x + (b.x - a.x) * ARROW_AT))
        ys.append(_r(a.y + (b.y - a.y) * ARROW_AT))
        angles.append(round(math.degrees(math.atan2(b.x - a.x, b.y - a.y)), 1))
    return _scatter(webgl, x=xs, y=ys, mode="markers", name=f"{name} direction", showlegend=False,
                    hoverinfo="skip", meta={"directed": True},
                    marker={"symbol": "triangle-up", "size": ARROW_PX, "color": color, "angle": angles})


def _chevrons(edges: list[ViewEdge], at: dict[str, ViewNode], webgl: bool, color: str, name: str) -> Any:
    """Arrowheads as one short stroke each (wing, tip, wing), in one line trace: WebGL draws turned markers slowly
    (seconds for a few thousand in software rendering), lines fast. Their size is set for the first view's scale."""
    size = ARROW_PX / scale(tuple(at.values()))
    xs: list[float | None] = []
    ys: list[float | None] = []
    for e in edges:
        a, b = at[e.src], at[e.dst]
        length = math.hypot(b.x - a.x, b.y - a.y) or 1.0
        ux, uy = (b.x - a.x) / length, (b.y - a.y) / length
        hx, hy = a.x + (b.x - a.x) * ARROW_AT, a.y + (b.y - a.y) * ARROW_AT
        xs += [_r(hx - size * (ux - uy * 0.6)), _r(hx), _r(hx - size * (ux + uy * 0.6)), None]
        ys += [_r(hy - size * (uy + ux * 0.6)), _r(hy), _r(hy - size * (uy - ux * 0.6)), None]
    return _scatter(webgl, x=xs, y=ys, mode="lines", name=f"{name} direction", showlegend=False, hoverinfo="skip",
                    meta={"directed": True}, line={"color": color, "width": 1.5})


def _node_text(n: ViewNode) -> str:
    if n.kind.endswith("group"):
        return f"{plot_text(n.label)}<br>{n.count:,} nodes · click to open"
    where = f"<br>namespace {plot_text(n.namespace)}" if n.namespace else ""
    note = f"<br>{plot_text(n.note)}" if n.note else ""
    change = f"<br>{n.status} since the base snapshot" if n.status != "same" else ""
    return f"{plot_text(n.key)}<br>{n.kind}{where}{note}{change}"


def _node_traces(view: GraphView, webgl: bool) -> tuple[list[Any], list[list[str]]]:
    traces, keys = [], []
    named = labelled(view.nodes)
    rich = len(view.nodes) <= RICH_NODE_HOVER_MAX
    for kind, (color, symbol) in NODE_KINDS.items():
        nodes = [n for n in view.nodes if n.kind == kind]
        if not nodes:
            continue
        keys.append([n.key for n in nodes])
        with_text = any(n.key in named for n in nodes)
        traces.append(_scatter(
            webgl, x=[_r(n.x) for n in nodes], y=[_r(n.y) for n in nodes], name=kind,
            mode="markers+text" if with_text else "markers",
            text=[_node_text(n) if rich else plot_text(n.key) for n in nodes],
            # a label travels as data: a template made of it would expand a `%{…}` inside a name
            customdata=[plot_text(short(n.label)) if n.key in named else "" for n in nodes] if with_text else None,
            texttemplate="%{customdata}" if with_text else None,
            textposition=[named.get(n.key, "top center") for n in nodes] if with_text else None,
            textfont={"size": 11}, hovertemplate="%{text}<extra>" + kind + "</extra>",
            marker={"color": color, "symbol": symbol, "size": [marker_px(n) for n in nodes],
                    "line": {"color": [STATUS_LINE[n.status] for n in nodes],
                             "width": [1 if n.status == "same" else 4 for n in nodes]}},
        ))
    return traces, keys


def _layout(view: GraphView, revision: str, at: dict[str, ViewNode]) -> dict[str, Any]:
    axis: dict[str, Any] = {"visible": False, "showgrid": False, "zeroline": False}
    x_axis, y_axis = dict(axis), dict(axis, scaleanchor="x")
    found = [at[k] for k in view.matches if k in at]
    if found:
        # centre the first match, close enough to read its neighbours
        span = SPACING * 8
        x_axis["range"] = [found[0].x - span, found[0].x + span]
        y_axis["range"] = [found[0].y - span, found[0].y + span]
    return {"height": 640, "autosize": True, "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
            "showlegend": True, "legend": {"orientation": "h", "y": -0.02}, "hovermode": "closest",
            "clickmode": "event", "dragmode": "pan", "template": "plotly_white", "uirevision": revision,
            "xaxis": x_axis, "yaxis": y_axis}


def uses_webgl(figure: go.Figure | dict[str, Any]) -> bool:
    """Whether a figure (or its JSON) has WebGL traces, which the dashboard's basic plotly bundle cannot draw."""
    data = figure.data if isinstance(figure, go.Figure) else figure.get("data", [])
    return any((t.type if isinstance(t, BaseTraceType) else t.get("type")) == "scattergl" for t in data)


def view_figure(view: GraphView, revision: str = "graph") -> tuple[go.Figure, list[list[str]]]:
    """The figure and, per trace, the node keys in point order (empty for edge traces), so a click
    (curveNumber, pointNumber) maps back to a node."""
    webgl = len(view.nodes) + len(view.edges) > WEBGL_FROM
    at = {n.key: n for n in view.nodes}
    edge_traces = _edge_traces(view, at, webgl)  # lines, arrowheads, then the hover points
    node_traces, node_keys = _node_traces(view, webgl)
    traces = [*edge_traces, *node_traces]
    keys: list[list[str]] = [[] for _ in edge_traces] + node_keys
    found = [at[k] for k in view.matches if k in at]
    if found:
        traces.append(_scatter(webgl, x=[_r(n.x) for n in found], y=[_r(n.y) for n in found], mode="markers",
                               name="search match", hoverinfo="skip",
                               marker={"size": 26, "color": "rgba(0,0,0,0)",
                                       "line": {"color": "#fab005", "width": 4}}))
        keys.append([n.key for n in found])
    return go.Figure(data=traces, layout=_layout(view, revision, at), _validate=False), keys
