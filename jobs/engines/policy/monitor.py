"""Monitor mode (issue 19 Part B): one window's flows against the approved policies of monitored namespaces.

A flow is a violation when the policies would deny it on a side that lies in a monitored namespace: its
destination is a pod of that namespace isolated for ingress and no ingress rule of the policies selecting it
admits the source on the flow's port, or its source is such a pod isolated for egress and no egress rule admits
the destination. The semantics are `evaluate.PolicySet`'s; the window is checked against its isolation index
(each rule's reach as a set of node keys, port matches cached per rule, port and protocol), so 50,000 edges
against 500 policies take well under a second (tests/bench/bench_monitor.py).

Clusters (issue 19 A4): a cluster's policies and monitored namespaces see only that cluster's flows: the edges
with an end among its workloads, other clusters' pods being mere addresses (`clusters.cluster_part`), so a
policy of one cluster never selects, nor is violated by, a look-alike pod of another.

Each violation names the policy that isolates the denied side (the first by key when several do, all of them in
`policies`) and the rule that is missing, in words: "checkout → payments:8443 would be blocked by sg-payments:
no ingress rule admits app=checkout on TCP/8443".
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jobs.engines.policy.clusters import cluster_part
from jobs.engines.policy.evaluate import PolicySet
from jobs.engines.policy.ports import normalize_protocol, ports_admit
from jobs.engines.policy.union import placeholder_node
from jobs.engines.policy.universe import IsolationIndex
from jobs.engines.snapshot.types import DEFAULT_CLUSTER, EdgeRecord, NodeRecord, key_cluster

Direction = Literal["ingress", "egress"]
# labels that name a workload in an explanation, most telling first
_NAME_LABELS = ("app", "app.kubernetes.io/name", "k8s-app", "name")


@dataclass(frozen=True, slots=True)
class Violation:
    """One flow of the window that the policies would deny on a monitored side."""

    src: str
    dst: str
    dst_port: int | None
    protocol: str
    direction: Direction
    namespace: str  # the monitored namespace of the denied side
    policy: str  # `ns/name` of the policy that isolates the denied side
    policies: tuple[str, ...]  # every policy isolating that side, sorted
    missing: str  # the rule that is missing, in words
    flows: int
    bytes: int

    @property
    def signature(self) -> str:
        return f"violation|{self.src}|{self.dst}|{self.dst_port}|{self.protocol}|{self.direction}"

    @property
    def explanation(self) -> str:
        port = f":{self.dst_port}" if self.dst_port is not None else ""
        name = self.policy.split("/", 1)[-1]
        return f"{_short(self.src)} → {_short(self.dst)}{port} would be blocked by {name}: {self.missing}"


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """The window's verdict: the violations (highest traffic first) and how many edges were checked."""

    violations: list[Violation] = field(default_factory=list)
    evaluated: int = 0  # edges touching a monitored namespace
    allowed: int = 0


def evaluate_window(
    policies: Iterable[Mapping[str, Any]],
    nodes: Iterable[NodeRecord],
    edges: Iterable[EdgeRecord],
    *,
    monitored: Collection[str],
    default_namespace: str = "default",
    namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
    cluster: str = DEFAULT_CLUSTER,
) -> MonitorResult:
    """Check one window's edges against the policies of `cluster` for its `monitored` namespaces (see the module)."""
    wanted = frozenset(monitored)
    [(seen, edges)] = cluster_part([(list(nodes), list(edges))], cluster)
    nodes = seen
    edge_list = [e for e in edges if _namespace(e.src, cluster) in wanted or _namespace(e.dst, cluster) in wanted]
    if not wanted or not edge_list:
        return MonitorResult()
    pset = PolicySet(
        policies,
        _with_endpoints(nodes, edge_list),
        default_namespace=default_namespace,
        namespace_labels=namespace_labels,
    )
    checker = _Checker(pset, pset.index(), wanted)
    violations: list[Violation] = []
    for edge in edge_list:
        violations.extend(checker.check(edge))
    violations.sort(key=lambda v: (-v.flows, -v.bytes, v.signature))
    denied = len({(v.src, v.dst, v.dst_port, v.protocol) for v in violations})
    return MonitorResult(violations=violations, evaluated=len(edge_list), allowed=len(edge_list) - denied)


class _Checker:
    """Decides edges against an isolation index, with the namespaces and policy names it needs."""

    def __init__(self, pset: PolicySet, index: IsolationIndex, monitored: frozenset[str]) -> None:
        self.nodes = pset.nodes
        self.index = index
        self.monitored = monitored
        self._admit_cache: dict[tuple[str, str, int | None, str], frozenset[str]] = {}
        self.isolating: dict[Direction, dict[str, list[str]]] = {"ingress": {}, "egress": {}}
        local: dict[str, list[NodeRecord]] = {}
        for node in self.nodes.values():
            if node.kind == "workload" and node.namespace in monitored:
                local.setdefault(node.namespace, []).append(node)
        for policy in pset.policies:
            selected = [n.key for n in local.get(policy.namespace, ()) if pset.selects(policy, n)]
            for direction, rules in (("ingress", policy.ingress), ("egress", policy.egress)):
                if rules is not None:
                    for key in selected:
                        self.isolating[direction].setdefault(key, []).append(policy.key)  # type: ignore[index]

    def check(self, edge: EdgeRecord) -> list[Violation]:
        proto = normalize_protocol(edge.protocol)
        found = []
        for direction, side, peer in (("ingress", edge.dst, edge.src), ("egress", edge.src, edge.dst)):
            keys = self.isolating[direction].get(side)  # type: ignore[index]
            if not keys:
                continue
            if peer in self._admitted(direction, side, edge.dst_port, proto):  # type: ignore[arg-type]
                continue
            rules = (self.index.in_rules if direction == "ingress" else self.index.eg_rules).get(side, [])
            found.append(self._violation(edge, proto, direction, side, peer, sorted(keys), rules))  # type: ignore[arg-type]
        return found

    def _admitted(self, direction: Direction, side: str, port: int | None, proto: str) -> frozenset[str]:
        """The peers some rule isolating `side` admits on `port`/`proto` (one union per side, port, protocol)."""
        key = (direction, side, port, proto)
        if key not in self._admit_cache:
            rules = (self.index.in_rules if direction == "ingress" else self.index.eg_rules).get(side, [])
            reach = [self.index.reach[r] for r in rules if ports_admit(self.index.ports[r], port, proto)]
            self._admit_cache[key] = frozenset().union(*reach)
        return self._admit_cache[key]

    def _violation(
        self,
        edge: EdgeRecord,
        proto: str,
        direction: Direction,
        side: str,
        peer: str,
        keys: list[str],
        rules: list[int],
    ) -> Violation:
        what = "admits" if direction == "ingress" else "allows traffic to"
        port = f"{proto}/{edge.dst_port}" if edge.dst_port is not None else proto
        missing = f"no {direction} rule {what} {self._describe(peer)} on {port}"
        if any(peer in self.index.reach[r] for r in rules):
            missing += " (rules admit it on other ports)"
        namespace = self.nodes[side].namespace or ""
        return Violation(
            src=edge.src,
            dst=edge.dst,
            dst_port=edge.dst_port,
            protocol=proto,
            direction=direction,
            namespace=namespace,
            policy=keys[0],
            policies=tuple(keys),
            missing=missing,
            flows=edge.flows,
            bytes=edge.bytes,
        )

    def _describe(self, key: str) -> str:
        node = self.nodes.get(key)
        if node is None or node.kind != "workload":
            return key
        for label in _NAME_LABELS:
            if label in node.labels:
                return f"{label}={node.labels[label]}"
        return key


def _with_endpoints(nodes: Iterable[NodeRecord], edges: list[EdgeRecord]) -> list[NodeRecord]:
    """The nodes plus a placeholder for each edge endpoint they lack (built once per missing key)."""
    known = {node.key: node for node in nodes}
    for key in {e.src for e in edges} | {e.dst for e in edges}:
        if key not in known:
            known[key] = placeholder_node(key)
    return list(known.values())


def _namespace(key: str, cluster: str) -> str | None:
    """The namespace of a workload key of `cluster` (`types.node_key`); None for an address or another cluster."""
    if "/" not in key or key_cluster(key) != cluster:
        return None
    return key.rsplit("/", 2)[-2]


def _short(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def violation_risk(violation: Violation, *, criticality: float = 0.0) -> int:
    """0–100: a denied flow is a finding of medium weight, more with its traffic and the target's criticality
    (0–1); egress denials of traffic to the outside weigh like ingress ones."""
    traffic = min(20.0, 6.0 * math.log10(1 + max(violation.flows, 0)))
    return min(100, int(45 + traffic + 25 * max(0.0, min(1.0, criticality)) + 0.5))


def severity_of(risk: int) -> str:
    """The drift events' bands."""
    if risk >= 85:
        return "critical"
    if risk >= 70:
        return "high"
    if risk >= 40:
        return "medium"
    return "low" if risk >= 20 else "info"


def amend_manifest(
    manifest: Mapping[str, Any],
    *,
    direction: Direction,
    peer: NodeRecord,
    port: int | None,
    protocol: str,
) -> dict[str, Any]:
    """The policy with one more rule that admits `peer` on `port`/`protocol` in `direction` (what "amend" proposes
    for a violation): a pod by its labels and namespace, anything else by its address (/32 or /128)."""
    spec = dict(manifest.get("spec") or {})
    field_name = "from" if direction == "ingress" else "to"
    rule: dict[str, Any] = {field_name: [_peer_of(peer)]}
    proto = normalize_protocol(protocol)
    if port is not None and proto in ("TCP", "UDP", "SCTP"):
        rule["ports"] = [{"port": port, "protocol": proto}]
    spec[direction] = [*list(spec.get(direction) or []), rule]
    return {**dict(manifest), "spec": spec}


def _peer_of(node: NodeRecord) -> dict[str, Any]:
    if node.kind == "workload" and node.namespace:
        labels = {k: v for k, v in node.labels.items() if k in _NAME_LABELS} or dict(node.labels)
        pods: dict[str, Any] = {"matchLabels": labels} if labels else {}
        return {
            "podSelector": pods,
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": node.namespace}},
        }
    address = node.ips[0] if node.ips else node.key
    return {"ipBlock": {"cidr": f"{address}/{128 if ':' in address else 32}"}}
