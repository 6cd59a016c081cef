"""Plain values the graph engine works on: a snapshot's graph and the view the page shows."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

EdgeKey = tuple[str, str, int | None, str]
Point = tuple[float, float]
EXTERNAL_GROUP = "external"
# asn, as_org, country of an outside address (jobs.engines.enrich's answer)
Enrichment = tuple[int | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class Graph:
    """One snapshot's nodes and edges, keyed for lookups.

    `groups` (node key → group key, set by `zones.place`) overrides `group_of`; `outside` names the groups that
    are not home (drawn around the home ones); `info` holds the enrichment of outside addresses.
    """

    nodes: Mapping[str, NodeRecord]
    edges: tuple[EdgeRecord, ...]
    groups: Mapping[str, str] = field(default_factory=dict)
    outside: frozenset[str] = frozenset({EXTERNAL_GROUP})
    info: Mapping[str, Enrichment] = field(default_factory=dict)

    def group(self, key: str) -> str:
        """The group node `key` belongs to."""
        found = self.groups.get(key)
        return found if found is not None else group_of(self.nodes[key])

    def is_home(self, key: str) -> bool:
        """Whether node `key` is one of the tenant's own (its group is not an outside one)."""
        return self.group(key) not in self.outside

    def with_parts(self, nodes: Mapping[str, NodeRecord], edges: tuple[EdgeRecord, ...]) -> Graph:
        """Another node and edge set with this graph's placement (the part of it that still applies)."""
        return replace(self, nodes=nodes, edges=edges)

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
    """How a group key reads on the page: "bookinfo", "home 10.0.3.0/24", "AS14061 DigitalOcean, US"."""
    kind, _, rest = group.partition(":")
    if not rest:
        return group
    return f"home {rest}" if kind == "home" else rest


@dataclass(frozen=True, slots=True)
class ViewNode:
    """A point on the page: one node, or a group with `count` members.

    `kind` is workload, home (a home address), external (an outside one), home group or outside group;
    `note` is the outside address's "AS… organisation, country"."""

    key: str
    label: str
    kind: str
    x: float
    y: float
    count: int = 1
    status: str = "same"
    namespace: str = ""
    note: str = ""


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
