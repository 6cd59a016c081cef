"""The union of several snapshots as one graph, and the IP addresses of a node."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from jobs.engines.policy.ports import MAX_PORT, normalize_protocol
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

Snapshot = tuple[Sequence[NodeRecord], Sequence[EdgeRecord]]
EdgeKey = tuple[str, str, int | None, str]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class SnapshotUnion:
    """Nodes by key, edges summed per (src, dst, port, protocol), and in how many snapshots each
    edge appeared."""

    nodes: dict[str, NodeRecord]
    edges: list[EdgeRecord]
    seen_in: dict[EdgeKey, int]


def parse_ip(text: str) -> IPAddress | None:
    """Return the address in `text`, or None when it is not one (a workload key, a host name)."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def node_ips(node: NodeRecord) -> tuple[IPAddress, ...]:
    """Return a node's addresses: its `ips`, or its key when that is an address."""
    found = [ip for ip in (parse_ip(text) for text in node.ips) if ip is not None]
    if not found and (key_ip := parse_ip(node.key)) is not None:
        found.append(key_ip)
    return tuple(sorted(set(found), key=lambda ip: (ip.version, int(ip))))


def placeholder_node(key: str) -> NodeRecord:
    """Return a node for an edge endpoint the snapshot's node list lacks."""
    return NodeRecord(key=key, name=key, kind="ip" if parse_ip(key) else "external")


def normalize_edge(edge: EdgeRecord) -> EdgeRecord:
    """Return the edge with one spelling of protocol and None for a port outside 1..65535."""
    port = edge.dst_port if edge.dst_port is not None and 1 <= edge.dst_port <= MAX_PORT else None
    return replace(edge, protocol=normalize_protocol(edge.protocol), dst_port=port)


def merge_snapshots(snapshots: Sequence[Snapshot]) -> SnapshotUnion:
    """Merge snapshots: a node keeps only labels with the same value in every snapshot it is in
    (so selectors match all its observed incarnations) and the union of its IPs; edges add up."""
    nodes: dict[str, NodeRecord] = {}
    for snapshot_nodes, _ in snapshots:
        for node in snapshot_nodes:
            nodes[node.key] = _merge_node(nodes.get(node.key), node)
    totals: dict[EdgeKey, EdgeRecord] = {}
    seen_in: dict[EdgeKey, int] = {}
    for _, snapshot_edges in snapshots:
        keys_here: set[EdgeKey] = set()
        for raw in snapshot_edges:
            edge = normalize_edge(raw)
            totals[edge.key] = _add_edges(totals.get(edge.key), edge)
            keys_here.add(edge.key)
        for key in keys_here:
            seen_in[key] = seen_in.get(key, 0) + 1
    for src, dst, _, _ in totals:
        for endpoint in (src, dst):
            nodes.setdefault(endpoint, placeholder_node(endpoint))
    edges = sorted(totals.values(), key=edge_sort_key)
    return SnapshotUnion(nodes=dict(sorted(nodes.items())), edges=edges, seen_in=seen_in)


def edge_sort_key(edge: EdgeRecord) -> tuple[str, str, int, str]:
    """Sort edges by endpoints, port (unknown first) and protocol."""
    return (edge.src, edge.dst, edge.dst_port or 0, edge.protocol)


def with_endpoints(nodes: Iterable[NodeRecord], edges: Iterable[EdgeRecord]) -> list[NodeRecord]:
    """Return the nodes plus a placeholder for every edge endpoint they lack."""
    known = {node.key: node for node in nodes}
    for edge in edges:
        for key in (edge.src, edge.dst):
            known.setdefault(key, placeholder_node(key))
    return list(known.values())


def _merge_node(old: NodeRecord | None, new: NodeRecord) -> NodeRecord:
    if old is None:
        return new
    if not old.labels or not new.labels:
        # a record without labels is missing data, not evidence that the labels went away
        labels = old.labels or new.labels
    else:
        labels = {key: value for key, value in old.labels.items() if new.labels.get(key) == value}
    ips = tuple(sorted(set(old.ips) | set(new.ips)))
    return replace(new, labels=labels, ips=ips, namespace=new.namespace or old.namespace)


def _add_edges(total: EdgeRecord | None, edge: EdgeRecord) -> EdgeRecord:
    if total is None:
        return replace(edge, conn_starts=())
    return replace(
        total,
        bytes=total.bytes + edge.bytes,
        packets=total.packets + edge.packets,
        flows=total.flows + edge.flows,
        rejected=total.rejected + edge.rejected,
        first_seen=min(total.first_seen, edge.first_seen),
        last_seen=max(total.last_seen, edge.last_seen),
    )
