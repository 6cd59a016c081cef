"""One replay frame drawn from plain data: the graph and timeline figures as JSON text (without the plotly template,
which the page sets once), the frame's label, its counts and the verdict of the policies in force at its end."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from jobs.engines.graph.figure import view_figure
from jobs.engines.graph.layout import Layout
from jobs.engines.graph.model import EdgeKey, Graph
from jobs.engines.replay.frames import Window, WindowCounts, blocked_flows, frame_view, timeline_figure
from jobs.engines.replay.history import PolicyHistory

BLOCKED_LISTED: Final = 8


@dataclass(frozen=True, slots=True)
class Frame:
    """What the page shows for one window: the figures as JSON text, and the words around them."""

    figure: str
    timeline: str
    label: str
    counts: dict[str, str]
    blocked: list[dict[str, str]]
    note: str


@dataclass(frozen=True, slots=True)
class Period:
    """What every frame of a period shares."""

    windows: Sequence[Window]
    counts: Sequence[WindowCounts]
    layout: Layout
    history: PolicyHistory
    unreadable: int


def _moment(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def _plural(count: int, one: str, many: str = "") -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _plain_json(figure: Any) -> str:
    """A figure as JSON text without its template (the page applies `plotly_white` once)."""
    found = json.loads(figure.to_json())
    found.get("layout", {}).pop("template", None)
    return json.dumps(found, separators=(",", ":"))


def _blocked_row(edge: Any) -> dict[str, str]:
    port = f":{edge.dst_port}" if edge.dst_port is not None else ""
    return {
        "edge": f"{edge.src} → {edge.dst}{port}/{edge.protocol.lower()}",
        "flows": f"{edge.flows:,}",
        "bytes": f"{edge.bytes:,}",
        "refused": f"{edge.side}: {', '.join(edge.policies)}",
    }


def _counts(counted: WindowCounts, view_counts: Mapping[str, int], first: bool) -> dict[str, str]:
    found = {
        "drift events": counted.total_events,
        **{k: v for k, v in counted.events.items() if v},
        "active incidents": counted.incidents_active,
        "new incidents": counted.incidents_new,
        "nodes": view_counts.get("nodes", 0),
        "edges": view_counts.get("edges", 0),
    }
    if not first:
        found |= {
            "added edges": view_counts.get("added edges", 0),
            "removed edges": view_counts.get("removed edges", 0),
        }
    return {k: f"{v:,}" for k, v in found.items()}


def _verdict(data: Period, window: Window, graph: Graph) -> tuple[list[dict[str, str]], str]:
    policies = data.history.in_force_at(window.end)
    blocked = blocked_flows(policies, graph)
    rows = [_blocked_row(b) for b in blocked[:BLOCKED_LISTED]]
    unread = (
        f" ({data.unreadable} stored policy version(s) could not be read and are left out)" if data.unreadable else ""
    )
    if not policies:
        return rows, f"No policy was approved by {_moment(window.end)}: nothing would be blocked.{unread}"
    flows = sum(b.flows for b in blocked)
    names = ", ".join(p.label for p in policies[:3]) + (" …" if len(policies) > 3 else "")
    return rows, (
        f"{_plural(flows, 'flow')} ({_plural(len(blocked), 'edge')}) of this window would be blocked by the "
        f"{_plural(len(policies), 'policy', 'policies')} approved at {_moment(window.end)} ({names}){unread}."
    )


def draw_frame(data: Period, index: int, current: tuple[Graph, list[EdgeKey]], previous: Graph | None) -> Frame:
    """Frame `index` (0-based) of the period: `current` is its window's graph and drift edges, `previous` the
    graph of the window before (None for the first)."""
    window = data.windows[index]
    graph, drift = current
    view = frame_view(graph, previous, data.layout, drift)
    figure, _ = view_figure(view, revision="replay")
    timeline = timeline_figure(data.windows, data.counts, index)
    end = f"{window.end:%H:%M}" if window.end.date() == window.start.date() else f"{window.end:%Y-%m-%d %H:%M}"
    blocked, note = _verdict(data, window, graph)
    return Frame(
        figure=_plain_json(figure),
        timeline=json.dumps(timeline, separators=(",", ":")),
        label=f"{window.start:%Y-%m-%d %H:%M} – {end} UTC",
        counts=_counts(data.counts[index], view.counts, index == 0),
        blocked=blocked,
        note=note,
    )
