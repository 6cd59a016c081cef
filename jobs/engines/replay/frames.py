"""What one replay frame shows, from plain data: the window's graph on the period's fixed layout, the change
since the previous window, the drift timeline up to the window, and the flows the policies then in force block."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.graph.diff import classify, union
from jobs.engines.graph.layout import Layout, compute_layout
from jobs.engines.graph.model import EdgeKey, Enrichment, Graph, GraphView
from jobs.engines.graph.view import ViewOptions, build_view
from jobs.engines.graph.zones import place
from jobs.engines.policy.clusters import cluster_part
from jobs.engines.policy.impact import BlockedEdge, blocked_edges
from jobs.engines.replay.history import PolicyVersion
from jobs.engines.snapshot.types import DEFAULT_CLUSTER, EdgeRecord, NodeRecord

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_COLORS = {"critical": "#b3261e", "high": "#e8590c", "medium": "#f2b705", "low": "#4c8bf5", "info": "#9aa0a6"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """One frame's stored snapshot."""

    snapshot_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """A window's drift events by severity and its incidents (active in it; first seen in it)."""

    events: Mapping[str, int] = field(default_factory=dict)
    incidents_active: int = 0
    incidents_new: int = 0

    @property
    def total_events(self) -> int:
        """All of the window's events."""
        return sum(self.events.values())


def period_graph(
    nodes: Iterable[NodeRecord],
    pairs: Iterable[tuple[str, str]],
    home: HomeNetworks | None = None,
    info: Mapping[str, Enrichment] | None = None,
) -> Graph:
    """Every node and talking pair of the period as one graph, placed as the Graph page places (`zones.place`: the
    tenant's home networks and sensors in the centre, outside peers by network around them) when `home` is given."""
    edges = [EdgeRecord(src, dst, None, "", 0, 0, 0, 0, _EPOCH, _EPOCH) for src, dst in pairs]
    graph = Graph.of(nodes, edges)
    return place(graph, home, info or {}) if home is not None else graph


def period_layout(
    nodes: Iterable[NodeRecord],
    pairs: Iterable[tuple[str, str]],
    home: HomeNetworks | None = None,
    info: Mapping[str, Enrichment] | None = None,
) -> Layout:
    """One layout for every node seen in the period (grouped and placed as the Graph page does), so a node keeps
    its place from frame to frame and what changes is what moves the eye."""
    return compute_layout(period_graph(nodes, pairs, home, info))


def frame_view(current: Graph, previous: Graph | None, layout: Layout, drift: Iterable[EdgeKey] = ()) -> GraphView:
    """The window's graph; with the previous window's, what it added and lost since (lost edges drawn dashed)."""
    base = previous if previous is not None else current
    diff = classify(base, current, drift)
    shown = union(previous, current) if previous is not None else current
    return build_view(shown, layout, ViewOptions(diff=diff))


def blocked_flows(policies: Sequence[PolicyVersion], graph: Graph) -> list[BlockedEdge]:
    """The window's edges that `policies` (those in force then) would deny, heaviest first.

    Each cluster's policies judge that cluster's view of the window (`policy.clusters.cluster_part`: its own pods,
    other clusters' pods as addresses), as monitor mode and the impact preview do; a policy outside the cluster
    `default` is named `cluster/namespace/name`. An edge between two clusters refused by both is listed once."""
    if not policies or not graph.edges:
        return []
    by_cluster: dict[str, list[Mapping[str, Any]]] = {}
    for policy in policies:
        by_cluster.setdefault(policy.cluster, []).append(policy.manifest)
    window = [(list(graph.nodes.values()), list(graph.edges))]
    found: dict[tuple[str, str, int | None, str], BlockedEdge] = {}
    for cluster, manifests in sorted(by_cluster.items()):
        for edge in blocked_edges(manifests, cluster_part(window, cluster)):
            if cluster != DEFAULT_CLUSTER:
                edge = replace(edge, policies=tuple(f"{cluster}/{name}" for name in edge.policies))
            key = (edge.src, edge.dst, edge.dst_port, edge.protocol)
            held = found.get(key)
            found[key] = edge if held is None else _both(held, edge)
    return sorted(found.values(), key=lambda b: (-b.bytes, -b.flows, b.src, b.dst, b.dst_port or 0, b.protocol))


def _both(first: BlockedEdge, second: BlockedEdge) -> BlockedEdge:
    """One edge refused by two clusters' policies (one end in each)."""
    side = first.side if first.side == second.side else "both"
    return replace(first, side=side, policies=first.policies + second.policies)


def window_counts(
    windows: Sequence[Window],
    events: Iterable[tuple[datetime, str, int]],
    incidents: Iterable[tuple[datetime, datetime]],
) -> list[WindowCounts]:
    """Per window: events `(window_start, severity, count)` filed under it, and incidents `(first_seen, last_seen)`
    active in it (seen before its end and last seen at or after its start) and first seen in it."""
    by_start: dict[datetime, dict[str, int]] = {}
    for start, severity, count in events:
        slot = by_start.setdefault(start, {})
        slot[severity] = slot.get(severity, 0) + count
    spans = list(incidents)
    return [
        WindowCounts(
            events=by_start.get(w.start, {}),
            incidents_active=sum(1 for first, last in spans if first < w.end and last >= w.start),
            incidents_new=sum(1 for first, _ in spans if w.start <= first < w.end),
        )
        for w in windows
    ]


def _count_axis(title: str, highest: int) -> dict[str, object]:
    top = max(highest, 1)
    return {"title": {"text": title}, "range": [0, top * 1.1], "tickformat": ",d", "dtick": max(1, -(-top // 4))}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _timeline_layout(windows: Sequence[Window], counts: Sequence[WindowCounts], current: int) -> dict[str, object]:
    layout: dict[str, object] = {
        "barmode": "stack",
        "height": 220,
        "autosize": True,
        "plot_bgcolor": "white",
        "margin": {"l": 40, "r": 40, "t": 10, "b": 30},
        "legend": {"orientation": "h", "y": -0.25},
        # fixed over the period, so the axes do not rescale while playing
        "yaxis": _count_axis("events", max((c.total_events for c in counts), default=0)),
        "yaxis2": {
            **_count_axis("incidents", max((c.incidents_active for c in counts), default=0)),
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
        },
        "uirevision": "replay-timeline",
    }
    if windows:
        layout["xaxis"] = {"range": [_iso(windows[0].start), _iso(windows[-1].end)], "type": "date"}
        at = windows[min(max(current, 0), len(windows) - 1)]
        layout["shapes"] = [
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": _iso(at.start),
                "x1": _iso(at.end),
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(34, 139, 230, 0.25)",
                "line": {"width": 1, "color": "#1c7ed6"},
            }
        ]
    return layout


def timeline_figure(windows: Sequence[Window], counts: Sequence[WindowCounts], current: int) -> dict[str, Any]:
    """Drift events per window by severity (stacked) and active incidents, up to window `current` (0-based); the
    x axis spans the whole period so nothing moves while playing, and the current window is shaded.

    Plain plotly JSON (no `go.Figure`: building and validating one took 8–90 ms a frame; the page adds the
    template)."""
    shown = range(min(current + 1, len(windows)))
    # a bar covers its window: centred in it, 90 % of its width (plotly takes bar widths in milliseconds)
    xs = [_iso(windows[i].start + (windows[i].end - windows[i].start) / 2) for i in shown]
    widths = [(windows[i].end - windows[i].start).total_seconds() * 900 for i in shown]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "x": xs,
            "y": [counts[i].events.get(severity, 0) for i in shown],
            "width": widths,
            "name": severity,
            "marker": {"color": SEVERITY_COLORS[severity]},
            "hovertemplate": "%{y} " + severity + "<br>%{x}<extra></extra>",
        }
        for severity in SEVERITIES
    ]
    traces.append(
        {
            "type": "scatter",
            "x": xs,
            "y": [counts[i].incidents_active for i in shown],
            "name": "active incidents",
            "mode": "lines",
            "line": {"color": "#5f3dc4", "width": 2},
            "yaxis": "y2",
            "hovertemplate": "%{y} active incidents<br>%{x}<extra></extra>",
        }
    )
    return {"data": traces, "layout": _timeline_layout(windows, counts, current)}
