"""What the analyst narrows the graph to: namespace, port, protocol, node kind, external only, bytes, text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jobs.engines.graph.model import Graph
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

KINDS = ("workload", "ip", "external")


class BadFilter(ValueError):
    """A filter value the page cannot apply; the message is for the user."""


@dataclass(frozen=True, slots=True)
class GraphFilter:
    """Empty values mean "any"."""

    namespace: str = ""
    port: int | None = None
    protocol: str = ""
    kind: str = ""
    external_only: bool = False
    min_bytes: int = 0
    text: str = ""

    @classmethod
    def parse(cls, raw: Mapping[str, str]) -> GraphFilter:
        """Filters from the page's text fields; raises BadFilter with a message for the user."""
        port, min_bytes = raw.get("port", "").strip(), raw.get("min_bytes", "").strip()
        if port and not (port.isdigit() and 0 <= int(port) <= 65535):
            raise BadFilter("port must be a number between 0 and 65535")
        if min_bytes and not min_bytes.isdigit():
            raise BadFilter("min bytes must be a whole number")
        kind = raw.get("kind", "")
        if kind and kind not in KINDS:
            raise BadFilter(f"node kind must be one of {', '.join(KINDS)}")
        return cls(namespace=raw.get("namespace", ""), port=int(port) if port else None,
                   protocol=raw.get("protocol", "").lower(), kind=kind,
                   external_only=raw.get("external_only", "") == "true", min_bytes=int(min_bytes or 0),
                   text=raw.get("text", "").strip().lower()[:100])

    @property
    def narrows_edges(self) -> bool:
        """Whether an edge filter is set, so nodes left without edges are hidden."""
        return self.port is not None or bool(self.protocol) or self.min_bytes > 0 or self.external_only


def _focus(node: NodeRecord, f: GraphFilter) -> bool:
    if f.namespace and node.namespace != f.namespace:
        return False
    return not (f.kind and node.kind != f.kind)


def _edge_passes(edge: EdgeRecord, f: GraphFilter, nodes: Mapping[str, NodeRecord]) -> bool:
    if f.port is not None and edge.dst_port != f.port:
        return False
    if f.protocol and edge.protocol != f.protocol:
        return False
    if edge.bytes < f.min_bytes:
        return False
    return not (f.external_only and "external" not in (nodes[edge.src].kind, nodes[edge.dst].kind))


def apply_filter(graph: Graph, f: GraphFilter) -> Graph:
    """The part of the graph the filter keeps: edges passing the edge filters that touch a node passing the
    node filters, those nodes, and the other ends of the kept edges (who talks to the namespace)."""
    focus = {k for k, n in graph.nodes.items() if _focus(n, f)}
    edges = tuple(e for e in graph.edges
                  if (e.src in focus or e.dst in focus) and _edge_passes(e, f, graph.nodes))
    shown = {k for e in edges for k in (e.src, e.dst)}
    if not f.narrows_edges:
        shown |= focus
    return Graph({k: n for k, n in graph.nodes.items() if k in shown}, edges)


def search(graph: Graph, text: str, limit: int = 20) -> tuple[str, ...]:
    """Node keys whose key, name or labels contain `text` (case-insensitive)."""
    needle = text.strip().lower()
    if not needle:
        return ()
    found = [k for k, n in graph.nodes.items()
             if needle in k.lower() or needle in n.name.lower()
             or any(needle in f"{a}={b}".lower() for a, b in n.labels.items())]
    return tuple(found[:limit])


def namespaces(graph: Graph) -> list[str]:
    """The namespaces present, sorted."""
    return sorted({n.namespace for n in graph.nodes.values() if n.namespace})


def protocols(graph: Graph) -> list[str]:
    """The protocols present, sorted."""
    return sorted({e.protocol for e in graph.edges})
