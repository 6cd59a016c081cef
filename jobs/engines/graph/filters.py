"""What the analyst narrows the graph to: cluster, namespace, port, protocol, node kind, external only, bytes, text,
the outside peers' country and autonomous system, and the direction of traffic (from or to home)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from jobs.engines.graph.model import Graph
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

KINDS = ("workload", "ip", "external")
DIRECTIONS = ("outbound", "inbound", "internal", "transit")


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
    country: str = ""
    asn: int | None = None
    direction: str = ""
    cluster: str = ""

    @classmethod
    def parse(cls, raw: Mapping[str, str]) -> GraphFilter:
        """Filters from the page's text fields; raises BadFilter with a message for the user."""
        port, min_bytes = raw.get("port", "").strip(), raw.get("min_bytes", "").strip()
        if port and not (port.isdigit() and 0 <= int(port) <= 65535):
            raise BadFilter("port must be a number between 0 and 65535")
        if min_bytes and not min_bytes.isdigit():
            raise BadFilter("min bytes must be a whole number")
        kind, direction = raw.get("kind", ""), raw.get("direction", "")
        if kind and kind not in KINDS:
            raise BadFilter(f"node kind must be one of {', '.join(KINDS)}")
        if direction and direction not in DIRECTIONS:
            raise BadFilter(f"direction must be one of {', '.join(DIRECTIONS)}")
        asn = raw.get("asn", "").strip().upper().removeprefix("AS")
        if asn and not (asn.isdigit() and 0 < int(asn) < 2**32):
            raise BadFilter("AS number must look like AS14061 or 14061")
        country = raw.get("country", "").strip().upper()
        if country and not (len(country) == 2 and country.isalpha()):
            raise BadFilter("country must be a two-letter code such as US")
        return cls(namespace=raw.get("namespace", ""), port=int(port) if port else None,
                   protocol=raw.get("protocol", "").lower(), kind=kind,
                   external_only=raw.get("external_only", "") == "true", min_bytes=int(min_bytes or 0),
                   text=raw.get("text", "").strip().lower()[:100], country=country,
                   asn=int(asn) if asn else None, direction=direction, cluster=raw.get("cluster", "").strip())

    @property
    def narrows_edges(self) -> bool:
        """Whether an edge filter is set, so nodes left without edges are hidden."""
        return (self.port is not None or bool(self.protocol) or self.min_bytes > 0 or self.external_only
                or bool(self.direction))


def _focus(graph: Graph, key: str, f: GraphFilter) -> bool:
    node = graph.nodes[key]
    if f.cluster and (node.kind != "workload" or node.cluster != f.cluster):
        return False
    if f.namespace and node.namespace != f.namespace:
        return False
    if f.kind and node.kind != f.kind:
        return False
    if f.country or f.asn is not None:
        asn, _, country = graph.info.get(key, (None, None, None))
        return not ((f.country and country != f.country) or (f.asn is not None and asn != f.asn))
    return True


def direction_of(graph: Graph, edge: EdgeRecord) -> str:
    """outbound (home → outside), inbound, internal (home → home) or transit (neither end home)."""
    src, dst = graph.is_home(edge.src), graph.is_home(edge.dst)
    return ("internal" if dst else "outbound") if src else ("inbound" if dst else "transit")


def _edge_passes(edge: EdgeRecord, f: GraphFilter, graph: Graph) -> bool:
    if f.port is not None and edge.dst_port != f.port:
        return False
    if f.protocol and edge.protocol != f.protocol:
        return False
    if edge.bytes < f.min_bytes:
        return False
    if f.direction and direction_of(graph, edge) != f.direction:
        return False
    nodes: Mapping[str, NodeRecord] = graph.nodes
    return not (f.external_only and "external" not in (nodes[edge.src].kind, nodes[edge.dst].kind))


def apply_filter(graph: Graph, f: GraphFilter) -> Graph:
    """The part of the graph the filter keeps: edges passing the edge filters that touch a node passing the
    node filters, those nodes, and the other ends of the kept edges (who talks to the namespace). A country
    or AS filter keeps the outside peers matching it and who they talk to."""
    focus = {k for k in graph.nodes if _focus(graph, k, f)}
    edges = tuple(e for e in graph.edges
                  if (e.src in focus or e.dst in focus) and _edge_passes(e, f, graph))
    shown = {k for e in edges for k in (e.src, e.dst)}
    if not f.narrows_edges and not (f.country or f.asn is not None):
        shown |= focus
    return graph.with_parts({k: n for k, n in graph.nodes.items() if k in shown}, edges)


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


def clusters(graph: Graph) -> list[str]:
    """The clusters of the graph's workloads, sorted (`default` for single-cluster data)."""
    return sorted({n.cluster for n in graph.nodes.values() if n.kind == "workload"})


def protocols(graph: Graph) -> list[str]:
    """The protocols present, sorted."""
    return sorted({e.protocol for e in graph.edges})


def countries(graph: Graph) -> list[dict[str, str]]:
    """The outside peers' countries as picker options ("US (37)"), most peers first."""
    counts = Counter(c for _, _, c in graph.info.values() if c)
    return [{"value": c, "label": f"{c} ({n})"} for c, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]


def autonomous_systems(graph: Graph, limit: int = 300) -> list[dict[str, str]]:
    """The outside peers' autonomous systems as picker options ("AS14061 DigitalOcean (37)"), most peers first."""
    counts = Counter((a, o or "") for a, o, _ in graph.info.values() if a)
    ranked = sorted(counts.items(), key=lambda i: (-i[1], i[0][0]))[:limit]
    return [{"value": str(a), "label": f"AS{a} {o} ({n})".replace("  ", " ")} for (a, o), n in ranked]
