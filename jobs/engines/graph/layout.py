"""Server-side layout: deterministic (seeded), hierarchical (groups, then members) and stable.

Groups are placed with networkx's spring layout on the graph of groups; members sit around their
group's centre (a spring layout for small groups, a sunflower spiral for big ones, O(n)). Given the
previous layout, every node and group that was already placed keeps its position, so a node stays
where the analyst last saw it; only newcomers are placed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx

from jobs.engines.graph.model import Graph, Point, group_of

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
    for key, node in graph.nodes.items():
        members[group_of(node)].append(key)
    return dict(sorted(members.items()))


def _place_groups(
    graph: Graph, members: dict[str, list[str]], previous: dict[str, Point], seed: int
) -> dict[str, Point]:
    group_graph = nx.Graph()
    group_graph.add_nodes_from(members)
    owner = {key: group for group, keys in members.items() for key in keys}
    for edge in graph.edges:
        a, b = owner[edge.src], owner[edge.dst]
        if a != b:
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


def compute_layout(graph: Graph, previous: Layout | None = None, *, seed: int = SEED) -> Layout:
    """Positions for every node of `graph`; nodes and groups in `previous` keep theirs."""
    previous = previous or Layout()
    members = _group_members(graph)
    centres = _place_groups(graph, members, previous.groups, seed)
    positions: dict[str, Point] = {}
    for group, keys in members.items():
        known = [k for k in keys if k in previous.nodes]
        fresh = [k for k in keys if k not in previous.nodes]
        positions.update({k: previous.nodes[k] for k in known})
        if not fresh:
            continue
        if known or group in previous.groups:
            positions.update(_place_newcomers(fresh, len(known), centres[group]))
        else:
            positions.update(_place_members(graph, fresh, centres[group], seed))
    rounded = {k: (round(x, 2), round(y, 2)) for k, (x, y) in positions.items()}
    return Layout(nodes=rounded, groups={g: (round(x, 2), round(y, 2)) for g, (x, y) in centres.items()})


def covers(layout: Layout, graph: Graph) -> bool:
    """Whether the layout already places every node of the graph."""
    return all(key in layout.nodes for key in graph.nodes)
