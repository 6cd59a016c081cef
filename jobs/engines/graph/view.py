"""From a (filtered) graph and its layout to the view the page draws: grouping, diff styles, a size bound."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from jobs.engines.graph.diff import GraphDiff
from jobs.engines.graph.layout import Layout
from jobs.engines.graph.model import Graph, GraphView, Point, ViewEdge, ViewNode, group_label
from jobs.engines.graph.zones import describe
from jobs.engines.snapshot.types import EdgeRecord

# above this many nodes a view groups them (the Graph page groups from PAGE_GROUP_THRESHOLD: outside peers by
# AS and country); home groups this small stay open (the centre of the picture)
GROUP_THRESHOLD = 300
PAGE_GROUP_THRESHOLD = 40
HOME_OPEN_UP_TO = 30
MAX_EDGES = 5000
MAX_PORTS_SHOWN = 8
_STYLE_RANK = {"drift": 3, "added": 2, "removed": 1, "normal": 0}


@dataclass(frozen=True, slots=True)
class ViewOptions:
    """How to draw: which groups are opened, the diff to overlay, the search matches."""

    expanded: frozenset[str] = field(default_factory=frozenset)
    diff: GraphDiff | None = None
    matches: tuple[str, ...] = ()
    threshold: int = GROUP_THRESHOLD
    max_edges: int = MAX_EDGES


def _edge_style(edge: EdgeRecord, diff: GraphDiff | None) -> str:
    if diff is None:
        return "normal"
    if edge.key in diff.drift_edges:
        return "drift"
    if edge.key in diff.added_edges:
        return "added"
    return "removed" if edge.key in diff.removed_edges else "normal"


def _node_status(key: str, diff: GraphDiff | None) -> str:
    if diff is None:
        return "same"
    return "added" if key in diff.added_nodes else "removed" if key in diff.removed_nodes else "same"


def _centroid(points: list[Point]) -> Point:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _kind(graph: Graph, key: str) -> str:
    kind = graph.nodes[key].kind
    if kind == "workload":
        return kind
    return "home" if graph.is_home(key) else "external"


def _group_status(keys: list[str], diff: GraphDiff | None) -> str:
    found = {_node_status(k, diff) for k in keys}
    return found.pop() if len(found) == 1 else "same"


def _view_nodes(graph: Graph, layout: Layout, owner: dict[str, str], options: ViewOptions) -> list[ViewNode]:
    nodes: list[ViewNode] = []
    members: dict[str, list[str]] = defaultdict(list)
    for key, node in graph.nodes.items():
        if owner[key] != key:
            members[owner[key]].append(key)
            continue
        x, y = layout.nodes.get(key, (0.0, 0.0))
        note = describe(graph.info[key]) if key in graph.info else ""
        nodes.append(ViewNode(key, node.name, _kind(graph, key), x, y, 1, _node_status(key, options.diff),
                              node.namespace or "", note))
    for group, keys in sorted(members.items()):
        x, y = layout.groups.get(group) or _centroid([layout.nodes.get(k, (0.0, 0.0)) for k in keys])
        kind = "outside group" if group in graph.outside else "home group"
        nodes.append(ViewNode(group, f"{group_label(group)} ({len(keys)})", kind, x, y, len(keys),
                              _group_status(keys, options.diff)))
    return nodes


def _owners(graph: Graph, options: ViewOptions) -> dict[str, str]:
    """Which point each node is drawn as: itself, or its group (closed unless opened, a lone member, or a
    small home group)."""
    sizes: dict[str, int] = defaultdict(int)
    for key in graph.nodes:
        sizes[graph.group(key)] += 1
    owner = {}
    for key in graph.nodes:
        group = graph.group(key)
        closed = (group not in options.expanded and sizes[group] > 1
                  and (group in graph.outside or sizes[group] > HOME_OPEN_UP_TO))
        owner[key] = group if closed else key
    return owner


def _view_edges(graph: Graph, owner: dict[str, str], diff: GraphDiff | None) -> list[ViewEdge]:
    merged: dict[tuple[str, str, str], list[EdgeRecord]] = defaultdict(list)
    for edge in graph.edges:
        a, b = owner[edge.src], owner[edge.dst]
        if a != b or a == edge.src:
            merged[(a, b, _edge_style(edge, diff))].append(edge)
    edges = []
    for (a, b, style), parts in merged.items():
        ports = sorted({e.dst_port for e in parts if e.dst_port is not None})
        shown = ", ".join(str(p) for p in ports[:MAX_PORTS_SHOWN]) + (" …" if len(ports) > MAX_PORTS_SHOWN else "")
        edges.append(ViewEdge(a, b, shown or "—", "/".join(sorted({e.protocol for e in parts})),
                              sum(e.bytes for e in parts), sum(e.flows for e in parts), style))
    return edges


def build_view(graph: Graph, layout: Layout, options: ViewOptions | None = None) -> GraphView:
    """The view of `graph`: grouped above the threshold (opened groups show their members), edges merged per
    pair and style, the heaviest `max_edges` kept."""
    options = options or ViewOptions()
    grouped = len(graph.nodes) > options.threshold
    owner = _owners(graph, options) if grouped else {key: key for key in graph.nodes}
    grouped = any(owner[k] != k for k in owner)
    nodes = _view_nodes(graph, layout, owner, options)
    edges = _view_edges(graph, owner, options.diff)
    edges.sort(key=lambda e: (-_STYLE_RANK[e.style], -e.bytes, -e.flows, e.src, e.dst))
    truncated = max(0, len(edges) - options.max_edges)
    edges = edges[:options.max_edges]
    counts = {"nodes": len(graph.nodes), "edges": len(graph.edges), "points": len(nodes), "lines": len(edges)}
    if options.diff is not None:
        counts |= options.diff.counts()
    return GraphView(tuple(nodes), tuple(edges), grouped, counts, options.matches, truncated)
