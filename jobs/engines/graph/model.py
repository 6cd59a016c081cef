"""Plain values the graph engine works on: a snapshot's graph and the view the page shows."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

EdgeKey = tuple[str, str, int | None, str]
Point = tuple[float, float]
EXTERNAL_GROUP = "external"


@dataclass(frozen=True, slots=True)
class Graph:
    """One snapshot's nodes and edges, keyed for lookups."""

    nodes: Mapping[str, NodeRecord]
    edges: tuple[EdgeRecord, ...]

    @classmethod
    def of(cls, nodes: Iterable[NodeRecord], edges: Iterable[EdgeRecord]) -> Graph:
        """A graph from records; edges whose ends are missing still count (their ends are added as ip nodes)."""
        by_key = {n.key: n for n in nodes}
        kept = tuple(edges)
        for edge in kept:
            for end in (edge.src, edge.dst):
                by_key.setdefault(end, NodeRecord(end, end, "ip"))
        return cls(dict(sorted(by_key.items())), kept)


def group_of(node: NodeRecord) -> str:
    """The group a node collapses into: its namespace, its /24 (or /64) for an address, or `external`."""
    if node.kind == "external":
        return EXTERNAL_GROUP
    if node.namespace:
        return f"ns:{node.namespace}"
    try:
        address = ipaddress.ip_address(node.key)
    except ValueError:
        return "other"
    prefix = 24 if address.version == 4 else 64
    return f"net:{ipaddress.ip_network(f'{address}/{prefix}', strict=False)}"


def group_label(group: str) -> str:
    """How a group key reads on the page."""
    return group.split(":", 1)[-1]


@dataclass(frozen=True, slots=True)
class ViewNode:
    """A point on the page: one node, or a group with `count` members."""

    key: str
    label: str
    kind: str
    x: float
    y: float
    count: int = 1
    status: str = "same"
    namespace: str = ""


@dataclass(frozen=True, slots=True)
class ViewEdge:
    """A line on the page; `style` is normal, added, removed or drift."""

    src: str
    dst: str
    ports: str
    protocol: str
    bytes: int
    flows: int
    style: str = "normal"


@dataclass(frozen=True, slots=True)
class GraphView:
    """What the page draws, plus the counts beside it."""

    nodes: tuple[ViewNode, ...]
    edges: tuple[ViewEdge, ...]
    grouped: bool
    counts: dict[str, int] = field(default_factory=dict)
    matches: tuple[str, ...] = ()
    truncated: int = 0


def graph_json(graph: Graph) -> dict[str, Any]:
    """The graph in the REST endpoint's shape (`GET /api/v1/snapshots/{id}/graph`)."""
    return {
        "nodes": [{"id": n.key, "name": n.name, "kind": n.kind, "namespace": n.namespace, "labels": dict(n.labels)}
                  for n in graph.nodes.values()],
        "edges": [{"src": e.src, "dst": e.dst, "dst_port": e.dst_port, "protocol": e.protocol, "bytes": e.bytes,
                   "packets": e.packets, "flows": e.flows} for e in graph.edges],
    }
