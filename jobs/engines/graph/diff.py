"""Snapshot diff: what was added and removed between a base snapshot and the current one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from jobs.engines.graph.model import EdgeKey, Graph


@dataclass(frozen=True, slots=True)
class GraphDiff:
    """Keys by class; `drift` are current edges that carry drift events."""

    added_nodes: frozenset[str] = field(default_factory=frozenset)
    removed_nodes: frozenset[str] = field(default_factory=frozenset)
    added_edges: frozenset[EdgeKey] = field(default_factory=frozenset)
    removed_edges: frozenset[EdgeKey] = field(default_factory=frozenset)
    drift_edges: frozenset[EdgeKey] = field(default_factory=frozenset)

    def counts(self) -> dict[str, int]:
        """How many of each class, for the legend."""
        return {"added nodes": len(self.added_nodes), "removed nodes": len(self.removed_nodes),
                "added edges": len(self.added_edges), "removed edges": len(self.removed_edges),
                "drift edges": len(self.drift_edges)}


def classify(base: Graph, current: Graph, drift: Iterable[EdgeKey] = ()) -> GraphDiff:
    """Added/removed nodes and edges from `base` to `current`; drift keys kept when the edge exists now.

    A drift event without a port (node-level kinds) matches every current edge between its ends.
    """
    base_edges = {e.key for e in base.edges}
    now_edges = {e.key for e in current.edges}
    wanted = set(drift)
    loose = {(s, d) for s, d, port, _ in wanted if port is None}
    flagged = frozenset(k for k in now_edges if k in wanted or (k[0], k[1]) in loose)
    return GraphDiff(
        added_nodes=frozenset(current.nodes.keys() - base.nodes.keys()),
        removed_nodes=frozenset(base.nodes.keys() - current.nodes.keys()),
        added_edges=frozenset(now_edges - base_edges), removed_edges=frozenset(base_edges - now_edges),
        drift_edges=flagged,
    )


def union(base: Graph, current: Graph) -> Graph:
    """The current graph plus what the base had and lost, so removed nodes and edges can be drawn; placements
    (groups, enrichment) are merged, the current one winning."""
    now_edges = {e.key for e in current.edges}
    nodes = {**base.nodes, **current.nodes}
    edges = current.edges + tuple(e for e in base.edges if e.key not in now_edges)
    return Graph(dict(sorted(nodes.items())), edges, {**base.groups, **current.groups},
                 base.outside | current.outside, {**base.info, **current.info})


def changes_only(graph: Graph, diff: GraphDiff) -> Graph:
    """What changed: the added, removed and drift edges of `graph` (a union), their ends, and the nodes added
    or removed on their own. Unchanged edges and nodes are left out."""
    changed = diff.added_edges | diff.removed_edges | diff.drift_edges
    edges = tuple(e for e in graph.edges if e.key in changed)
    keep = {k for e in edges for k in (e.src, e.dst)} | diff.added_nodes | diff.removed_nodes
    return graph.with_parts({k: n for k, n in graph.nodes.items() if k in keep}, edges)
