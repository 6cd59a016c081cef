"""Least-privilege NetworkPolicies from observed traffic: one policy per known workload.

Every workload the source identifies (namespace and at least one stable label) gets a policy that
isolates it for ingress and egress and admits exactly its observed peers on their observed ports,
one rule per peer (so ports never spill over to another peer), plus DNS to the cluster's DNS
servers. A workload that only sends gets `ingress: []`: least privilege means none observed, none
allowed. A peer no selector can name (an IP, or a workload without stable labels, such as a pod Hubble
saw as `reserved:world`) gets an `ipBlock` /32 (/128) per address it was seen with. Anything that cannot
be written as a correct rule becomes a note, never a broad rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobs.engines.policy import manifest as mf
from jobs.engines.policy.labels import pod_labels, selector_matches, stable_labels
from jobs.engines.policy.ports import NP_PROTOCOLS
from jobs.engines.policy.union import Snapshot, SnapshotUnion, merge_snapshots, node_ips
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

DNS_NAMESPACE = "kube-system"
DNS_PORT = 53
DEFAULT_DNS_LABELS = {"k8s-app": "kube-dns"}


@dataclass(frozen=True, slots=True)
class GeneratedPolicy:
    """One generated policy: its manifest, the same as deterministic YAML, and reviewer notes."""

    name: str
    namespace: str
    workload: str
    manifest: dict[str, Any]
    yaml: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SkippedWorkload:
    """A workload that got no policy, and why (no rule is better than a wrong one)."""

    workload: str
    reason: str


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """The policies, the skipped workloads, and the merged graph they came from, which is what
    `evaluate.verify` should check them against."""

    policies: list[GeneratedPolicy]
    skipped: list[SkippedWorkload]
    nodes: list[NodeRecord]
    edges: list[EdgeRecord]

    def manifests(self) -> list[dict[str, Any]]:
        """Return the manifests of all policies."""
        return [policy.manifest for policy in self.policies]


@dataclass(slots=True)
class _Context:
    union: SnapshotUnion
    selectors: dict[str, dict[str, str]]
    dns_servers: frozenset[str]
    dns_peers: list[dict[str, Any]]
    snapshot_ids: Sequence[str | int]
    incoming: dict[str, list[EdgeRecord]]
    outgoing: dict[str, list[EdgeRecord]]
    pod_labels: dict[str, dict[str, str]]
    neighbours: dict[str | None, list[NodeRecord]]

    def is_dns(self, edge: EdgeRecord) -> bool:
        return edge.dst in self.dns_servers and edge.dst_port == DNS_PORT and edge.protocol in ("UDP", "TCP")


def generate_policies(
    snapshots: Sequence[Snapshot],
    *,
    snapshot_ids: Sequence[str | int] = (),
    exclude_namespaces: Iterable[str] = (),
) -> GenerationResult:
    """Generate one NetworkPolicy per identifiable workload from the union of `snapshots`.

    `snapshots` is a list of (nodes, edges); pass `[(nodes, edges)]` for one. `snapshot_ids`
    only label the provenance annotation. Workloads in `exclude_namespaces` get no policy (they
    remain peers), e.g. `kube-system` when the cluster's own pods are managed elsewhere.
    """
    ctx = _context(merge_snapshots(snapshots), snapshot_ids)
    excluded = frozenset(exclude_namespaces)
    policies: list[GeneratedPolicy] = []
    skipped: list[SkippedWorkload] = []
    taken: dict[str, set[str]] = defaultdict(set)
    for node in ctx.union.nodes.values():
        if node.kind != "workload":
            continue
        namespace = node.namespace
        reason = _unidentifiable(node, ctx.selectors)
        if namespace in excluded:
            reason = f"namespace {namespace} is excluded from generation"
        if reason or namespace is None:
            skipped.append(SkippedWorkload(workload=node.key, reason=reason or "no namespace"))
            continue
        name = mf.policy_name(node.name, node.key, taken[namespace])
        policies.append(_policy_for(node, namespace, name, ctx))
    return GenerationResult(
        policies=policies, skipped=skipped, nodes=list(ctx.union.nodes.values()), edges=ctx.union.edges
    )


def _context(union: SnapshotUnion, snapshot_ids: Sequence[str | int]) -> _Context:
    selectors = {
        key: stable_labels(node.labels) for key, node in union.nodes.items() if node.kind == "workload"
    }
    incoming: dict[str, list[EdgeRecord]] = defaultdict(list)
    outgoing: dict[str, list[EdgeRecord]] = defaultdict(list)
    for edge in union.edges:
        incoming[edge.dst].append(edge)
        outgoing[edge.src].append(edge)
    # DNS servers are kube-system pods seen answering on 53, so the rule uses their real labels
    servers = frozenset(
        edge.dst
        for edge in union.edges
        if edge.dst_port == DNS_PORT
        and edge.protocol in ("UDP", "TCP")
        and union.nodes[edge.dst].namespace == DNS_NAMESPACE
        and selectors.get(edge.dst)
    )
    label_sets = sorted({tuple(selectors[key].items()) for key in servers}) or [
        tuple(DEFAULT_DNS_LABELS.items())
    ]
    peers = [mf.workload_peer(DNS_NAMESPACE, dict(labels)) for labels in label_sets]
    labels = {key: pod_labels(node.labels) for key, node in union.nodes.items()}
    neighbours: dict[str | None, list[NodeRecord]] = defaultdict(list)
    for node in union.nodes.values():
        if node.kind == "workload":
            neighbours[node.namespace].append(node)
    return _Context(union, selectors, servers, peers, snapshot_ids, incoming, outgoing, labels, neighbours)


def _unidentifiable(node: NodeRecord, selectors: dict[str, dict[str, str]]) -> str | None:
    if node.namespace is None:
        return "the source does not know its namespace, so no policy can select it"
    if not selectors.get(node.key):
        dropped = ", ".join(sorted(pod_labels(node.labels))) or "none"
        return f"no stable label to select it by (pod labels: {dropped})"
    return None


def _policy_for(node: NodeRecord, namespace: str, name: str, ctx: _Context) -> GeneratedPolicy:
    notes: list[str] = []
    own = ctx.outgoing.get(node.key, [])
    dns_edges = [edge for edge in own if ctx.is_dns(edge)]
    incoming = ctx.incoming.get(node.key, [])
    outgoing = [edge for edge in own if not ctx.is_dns(edge)]
    ingress, in_lines = _rules(incoming, "from", ctx, notes)
    egress, eg_lines = _rules(outgoing, "to", ctx, notes)
    dns_ports = mf.port_entries([(DNS_PORT, "UDP"), (DNS_PORT, "TCP")])
    egress.insert(0, {"to": ctx.dns_peers, "ports": dns_ports})
    dns_line = (
        f"DNS {mf.describe_ports(dns_ports)} always allowed; observed: {mf.describe_traffic(dns_edges)}"
    )
    eg_lines.insert(0, dns_line)
    notes += _overlap_notes(node, ctx)
    if not ctx.dns_servers:
        notes.append("no DNS server observed: DNS is allowed to kube-system pods labelled k8s-app=kube-dns")
    lines = [f"ingress[{i}] {line}" for i, line in enumerate(in_lines)]
    lines += [f"egress[{i}] {line}" for i, line in enumerate(eg_lines)]
    annotations = {
        mf.ANNOTATION_WORKLOAD: node.key,
        mf.ANNOTATION_SOURCE: mf.describe_source(ctx.snapshot_ids, incoming + own),
        mf.ANNOTATION_RULES: "\n".join(lines) + "\n",
    }
    manifest = mf.build_manifest(
        name=name,
        namespace=namespace,
        selector=ctx.selectors[node.key],
        ingress=ingress,
        egress=egress,
        annotations=annotations,
    )
    return GeneratedPolicy(name, namespace, node.key, manifest, mf.dump_yaml(manifest), notes)


def _rules(
    edges: list[EdgeRecord], field_name: str, ctx: _Context, notes: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """One rule per peer with that peer's observed ports; unusable peers and ports become notes."""
    by_peer: dict[str, list[EdgeRecord]] = defaultdict(list)
    for edge in edges:
        by_peer[edge.src if field_name == "from" else edge.dst].append(edge)
    rules: list[dict[str, Any]] = []
    lines: list[str] = []
    direction = "ingress from" if field_name == "from" else "egress to"
    for peer_key in sorted(by_peer):
        peer_edges = by_peer[peer_key]
        items, why = _peer_items(ctx.union.nodes[peer_key], ctx.selectors)
        if not items:
            notes.append(f"{direction} {peer_key} not allowed: {why}")
            continue
        usable = [edge for edge in peer_edges if edge.protocol in NP_PROTOCOLS]
        notes += _edge_notes(peer_edges, direction, peer_key)
        if not usable:
            continue
        ports = mf.port_entries((edge.dst_port, edge.protocol) for edge in usable)
        rules.append({field_name: items, "ports": ports})
        lines.append(f"{peer_key} {mf.describe_ports(ports)}: {mf.describe_traffic(usable)}")
    return rules, lines


def _peer_items(node: NodeRecord, selectors: dict[str, dict[str, str]]) -> tuple[list[dict[str, Any]], str]:
    reason = _unidentifiable(node, selectors) if node.kind == "workload" else "not a workload"
    if reason is None and node.namespace is not None:
        return [mf.workload_peer(node.namespace, selectors[node.key])], ""
    # A peer no selector can name (an IP, or a pod Cilium saw as reserved:world) is its addresses (DESIGN §6).
    ips = node_ips(node)
    if not ips:
        return [], f"{reason}, and no IP address known for it" if node.kind == "workload" else "no IP address known"
    return [mf.ip_peer(ip) for ip in ips], ""


def _edge_notes(edges: list[EdgeRecord], direction: str, peer_key: str) -> list[str]:
    notes = []
    for edge in edges:
        what = f"{direction} {peer_key} {edge.dst_port or 'any'}/{edge.protocol}"
        if edge.protocol not in NP_PROTOCOLS:
            notes.append(
                f"{what} not allowed: NetworkPolicy cannot express {edge.protocol} ({edge.flows} flows)"
            )
        elif edge.dst_port is None:
            notes.append(f"{what}: destination port unknown, so every {edge.protocol} port is allowed")
        if edge.flows and edge.rejected >= edge.flows:
            notes.append(
                f"{what}: all {edge.flows} flows were rejected when observed; allowed only because seen"
            )
    return notes


def _overlap_notes(node: NodeRecord, ctx: _Context) -> list[str]:
    selector = {"matchLabels": ctx.selectors[node.key]}
    return [
        f"podSelector also selects {other.key}; the rules of both policies apply to both"
        for other in ctx.neighbours.get(node.namespace, ())
        if other.key != node.key and selector_matches(selector, ctx.pod_labels[other.key])
    ]
