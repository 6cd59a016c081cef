"""Hand-made graphs for the graph engine's tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from jobs.engines.graph.model import Graph
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def node(key: str, kind: str = "workload", namespace: str | None = None) -> NodeRecord:
    """A node; workloads named `ns/name` get their namespace from the key."""
    if namespace is None and kind == "workload" and "/" in key:
        namespace = key.split("/")[0]
    return NodeRecord(key, key.split("/")[-1], kind, namespace)  # type: ignore[arg-type]


def edge(src: str, dst: str, port: int | None = 80, protocol: str = "tcp", size: int = 100) -> EdgeRecord:
    """An edge of `size` bytes and one flow."""
    return EdgeRecord(src, dst, port, protocol, size, 1, 1, 0, T0, T0)


def graph(*edges: EdgeRecord, extra: tuple[NodeRecord, ...] = ()) -> Graph:
    """A graph of these edges (their ends become workloads or ip nodes) plus `extra` nodes."""
    ends = {k for e in edges for k in (e.src, e.dst)}
    nodes = [node(k) if "/" in k else node(k, "ip") for k in sorted(ends)]
    return Graph.of([*nodes, *extra], edges)


def estate(namespaces: int, per_namespace: int, ips: int = 0) -> Graph:
    """A synthetic estate: a chain inside each namespace, each namespace calling the next, ips calling ns0."""
    edges = []
    for n in range(namespaces):
        keys = [f"ns{n}/svc{i}" for i in range(per_namespace)]
        edges += [edge(a, b, 8080) for a, b in itertools.pairwise(keys)]
        edges.append(edge(keys[0], f"ns{(n + 1) % namespaces}/svc0", 443))
    edges += [edge(f"10.0.{i // 250}.{i % 250}", "ns0/svc0", 22) for i in range(ips)]
    return graph(*edges)
