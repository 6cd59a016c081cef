"""Which points carry a label: the most important first, each only where it does not cover one already kept.

Plotly does not move text out of the way, so the figure decides: it estimates the pixels one data unit
takes at the first view (the plot keeps x and y at the same scale), gives each candidate label a box
above its point, and keeps it only when that box overlaps no kept box and no other point's marker. The
rest of the names show on hover (and when the analyst filters or opens a group, the view is drawn again
with fewer points, so more labels fit).
"""

from __future__ import annotations

import math

from jobs.engines.graph.model import ViewNode

PLOT_WIDTH_PX = 720.0  # the narrowest plot the page gives at 1024 px wide with the details panel closed
PLOT_HEIGHT_PX = 520.0
CHAR_PX = 6.6
LINE_PX = 14.0
MAX_LABEL_CHARS = 30
LABELS_MAX = 60
# the view has too many points to label any of them usefully past this
LABEL_POINTS_MAX = 600
_RANK = {"home": 0, "workload": 1, "home group": 2, "outside group": 3, "external": 4}

Box = tuple[float, float, float, float]


def short(label: str) -> str:
    """The label cut to MAX_LABEL_CHARS (the hover keeps the whole)."""
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def marker_px(node: ViewNode) -> float:
    """The marker's diameter in pixels (figure.py draws it so)."""
    if node.kind.endswith("group"):
        return min(40.0, 12.0 + 3.0 * math.sqrt(node.count))
    return 16.0 if node.kind == "home" else 12.0


def scale(nodes: tuple[ViewNode, ...]) -> float:
    """Pixels per data unit at the first view (both axes share one scale)."""
    xs, ys = [n.x for n in nodes], [n.y for n in nodes]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    # plotly pads the autorange by about 5 % a side and keeps one scale for both axes
    return min(PLOT_WIDTH_PX / max(width * 1.1, 1e-9), PLOT_HEIGHT_PX / max(height * 1.1, 1e-9), 40.0)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


POSITIONS = ("top center", "bottom center", "middle right", "middle left")


def _label_box(node: ViewNode, px: float, position: str) -> Box:
    x, y = node.x * px, node.y * px
    width = len(short(node.label)) * CHAR_PX + 4
    gap = marker_px(node) / 2 + 2
    if position == "top center":
        return (x - width / 2, y + gap, x + width / 2, y + gap + LINE_PX)
    if position == "bottom center":
        return (x - width / 2, y - gap - LINE_PX, x + width / 2, y - gap)
    if position == "middle right":
        return (x + gap, y - LINE_PX / 2, x + gap + width, y + LINE_PX / 2)
    return (x - gap - width, y - LINE_PX / 2, x - gap, y + LINE_PX / 2)


def labelled(nodes: tuple[ViewNode, ...]) -> dict[str, str]:
    """The points whose label is drawn, each with its plotly text position: home first, then the biggest
    groups, each where its box covers no kept label and no marker (a home host's label is always drawn)."""
    if not nodes or len(nodes) > LABEL_POINTS_MAX:
        return {}
    px = scale(nodes)
    markers = [(n.x * px - marker_px(n) / 2, n.y * px - marker_px(n) / 2,
                n.x * px + marker_px(n) / 2, n.y * px + marker_px(n) / 2) for n in nodes]
    kept: list[Box] = []
    chosen: dict[str, str] = {}
    for node in sorted(nodes, key=lambda n: (_RANK.get(n.kind, 5), -n.count, n.key)):
        must = node.kind == "home" and len(chosen) < LABELS_MAX // 2
        for position in POSITIONS:
            box = _label_box(node, px, position)
            if any(_overlaps(box, other) for other in kept):
                continue
            if must or not any(_overlaps(box, m) for m in markers):
                kept.append(box)
                chosen[node.key] = position
                break
        if len(chosen) >= LABELS_MAX:
            break
    return chosen
