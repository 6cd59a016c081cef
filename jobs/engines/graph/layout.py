"""Server-side layout: deterministic (seeded), hierarchical (groups, then members) and stable.

Home groups (the tenant's own hosts, namespaces) take the centre, placed with networkx's spring layout on
the graph of groups; outside groups (one per autonomous system and country) sit on rings around them,
ordered by country and then by name, so a country's networks are neighbours. Members sit around their
group's centre (a spring layout for small groups, a sunflower spiral for big ones, O(n)). Given the
previous layout, every node and group that was already placed keeps its position, so a node stays
where the analyst last saw it; only newcomers are placed (a node whose group moved moves with it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx

from jobs.engines.graph.model import Graph, Point

SEED = 7
SPACING = 12.0
SPRING_MEMBERS = 60
# networkx's dense spring layout (numpy only) is used below this many nodes; its sparse one needs scipy
SPRING_GROUPS = 400
_GOLDEN = math.pi * (3 - math.sqrt(5))


@dataclass(frozen=True, slots=True)
class Layout:
    """Positions of nodes and of group centres."""

    nodes: dict[str, Point] = field(default_factory=dict)
    groups: dict[str, Point] = field(default_factory=dict)


def _radius(count: int) -> float:
    return SPACING * (1.0 + math.sqrt(count))


def _sunflower(index: int, count: int, radius: float) -> Point:
    r = radius * math.sqrt((index + 0.5) / max(count, 1))
    return (r * math.cos(index * _GOLDEN), r * math.sin(index * _GOLDEN))


def _group_members(graph: Graph) -> dict[str, list[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for key in graph.nodes:
        members[graph.group(key)].append(key)
    return dict(sorted(members.items()))


def _place_groups(
    graph: Graph, members: dict[str, list[str]], previous: dict[str, Point], seed: int
) -> dict[str, Point]:
    group_graph = nx.Graph()
    group_graph.add_nodes_from(members)
    owner = {key: group for group, keys in members.items() for key in keys}
    for edge in graph.edges:
        a, b = owner.get(edge.src), owner.get(edge.dst)
        if a is not None and b is not None and a != b:
            weight = group_graph.get_edge_data(a, b, {"weight": 0})["weight"]
            group_graph.add_edge(a, b, weight=weight + 1)
    known = {g: previous[g] for g in members if g in previous}
    if len(known) == len(members):
        return known
    # group centres lie at least a group's width apart: scale the unit layout by the widest group
    scale = 2.5 * max(_radius(len(k)) for k in members.values()) * math.sqrt(len(members))
    if len(members) > SPRING_GROUPS:
        order = [g for g in members if g not in known]
        spiral = {g: _sunflower(len(known) + i, len(members), scale) for i, g in enumerate(order)}
        return {**known, **spiral}
    start = {g: (p[0] / scale, p[1] / scale) for g, p in known.items()}
    placed = nx.spring_layout(group_graph, pos=start or None, fixed=list(start) or None, seed=seed,
                              iterations=60)
    return {g: known.get(g, (float(p[0]) * scale, float(p[1]) * scale)) for g, p in placed.items()}


def _place_members(graph: Graph, keys: list[str], centre: Point, seed: int) -> dict[str, Point]:
    radius = _radius(len(keys))
    if len(keys) <= SPRING_MEMBERS:
        inside = set(keys)
        sub = nx.Graph()
        sub.add_nodes_from(keys)
        sub.add_edges_from((e.src, e.dst) for e in graph.edges if e.src in inside and e.dst in inside)
        placed = nx.spring_layout(sub, seed=seed, scale=radius, center=centre, iterations=50)
        return {k: (float(p[0]), float(p[1])) for k, p in placed.items()}
    return {k: (centre[0] + dx, centre[1] + dy)
            for i, k in enumerate(keys) for dx, dy in [_sunflower(i, len(keys), radius)]}


def _place_newcomers(keys: list[str], known: int, centre: Point) -> dict[str, Point]:
    """Newcomers take the next free sunflower slots around a group that was already drawn."""
    radius = _radius(known + len(keys))
    total = known + len(keys)
    return {k: (centre[0] + dx, centre[1] + dy)
            for i, k in enumerate(keys) for dx, dy in [_sunflower(known + i, total, radius)]}


def _country(group: str) -> str:
    """The country of an outside group: the text after its label's last comma ("" when none)."""
    head, _, country = (group.partition(":")[2] or group).rpartition(", ")
    return country if head else ""


def _ring_order(outside: dict[str, list[str]]) -> list[str]:
    """Countries with the most peers first, a country's groups together, biggest first."""
    totals: dict[str, int] = defaultdict(int)
    for group, keys in outside.items():
        totals[_country(group)] += len(keys)
    return sorted(outside, key=lambda g: (-totals[_country(g)], _country(g), -len(outside[g]), g))


def _place_ring(outside: dict[str, list[str]], inner: float) -> dict[str, Point]:
    """Outside group centres on rings around the home disc of radius `inner`, in `_ring_order`."""
    centres: dict[str, Point] = {}
    order = _ring_order(outside)
    radius = inner + SPACING * 6
    index = 0
    while index < len(order):
        room = 2 * math.pi * radius
        widths: list[float] = []
        taken = 0.0
        while index + len(widths) < len(order):
            width = 2 * _radius(len(outside[order[index + len(widths)]])) + SPACING * 2
            if widths and taken + width > room:
                break
            widths.append(width)
            taken += width
        angle = -math.pi / 2
        for offset, width in enumerate(widths):
            angle += width / 2 / radius
            centres[order[index + offset]] = (radius * math.cos(angle), radius * math.sin(angle))
            angle += width / 2 / radius
        index += len(widths)
        radius += max(widths) + SPACING * 2
    return centres


def _centres(graph: Graph, members: dict[str, list[str]], previous: Layout, seed: int) -> dict[str, Point]:
    home = {g: keys for g, keys in members.items() if g not in graph.outside}
    outside = {g: keys for g, keys in members.items() if g in graph.outside}
    centres = _place_groups(graph, home, previous.groups, seed) if home else {}
    if len(centres) > 1:  # the home disc is centred on the origin, where the rings are
        count = len(centres)
        cx, cy = sum(p[0] for p in centres.values()) / count, sum(p[1] for p in centres.values()) / count
        moved = {g: (p[0] - cx, p[1] - cy) for g, p in centres.items()}
        centres = {g: previous.groups.get(g, moved[g]) for g in centres}
    elif centres and next(iter(centres)) not in previous.groups:
        centres = {g: (0.0, 0.0) for g in centres}
    if outside:
        known = {g: previous.groups[g] for g in outside if g in previous.groups}
        if len(known) == len(outside):
            centres.update(known)
        else:
            inner = max((math.hypot(*centres[g]) + _radius(len(home[g])) for g in home), default=0.0)
            centres.update(_place_ring(outside, inner))
    return centres


def compute_layout(graph: Graph, previous: Layout | None = None, *, seed: int = SEED) -> Layout:
    """Positions for every node of `graph`; nodes and groups in `previous` keep theirs."""
    previous = previous or Layout()
    members = _group_members(graph)
    centres = _centres(graph, members, previous, seed)
    positions: dict[str, Point] = {}
    for group, keys in members.items():
        stayed = previous.groups.get(group) == centres[group]
        known = [k for k in keys if stayed and k in previous.nodes]
        fresh = [k for k in keys if not (stayed and k in previous.nodes)]
        positions.update({k: previous.nodes[k] for k in known})
        if not fresh:
            continue
        if known:
            positions.update(_place_newcomers(fresh, len(known), centres[group]))
        else:
            positions.update(_place_members(graph, fresh, centres[group], seed))
    rounded = {k: (round(x, 2), round(y, 2)) for k, (x, y) in positions.items()}
    return Layout(nodes=rounded, groups={g: (round(x, 2), round(y, 2)) for g, (x, y) in centres.items()})


def covers(layout: Layout, graph: Graph) -> bool:
    """Whether the layout already places every node of the graph, in the groups the graph puts them in."""
    return (all(key in layout.nodes for key in graph.nodes)
            and all(graph.group(key) in layout.groups for key in graph.nodes))
