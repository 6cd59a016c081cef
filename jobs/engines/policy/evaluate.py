"""SecureGuard's own evaluator of `networking.k8s.io/v1` NetworkPolicy semantics (no cluster).

A pod is isolated for ingress (egress) when some policy selects it and lists that policyType;
without `policyTypes` a policy has Ingress always and Egress only when it has egress rules.
A connection is allowed iff (the destination is not ingress-isolated or some ingress rule of a
policy selecting it admits the source and port) and (the source is not egress-isolated or some
egress rule of a policy selecting it admits the destination and port). Only workload nodes with
a namespace are pods; `ip`/`external` nodes are never isolated and match only `ipBlock` peers.
An `ipBlock` matches any node holding an address in it, pods included: where CNIs differ, the
evaluator takes the broader reading so that verification errs towards reporting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import count
from typing import Any

from jobs.engines.policy.compiled import CompiledPolicy, Peer, PortRange, Rule, compile_policy
from jobs.engines.policy.labels import NAMESPACE_NAME_LABEL, pod_labels, selector_matches
from jobs.engines.policy.labels import namespace_labels as derive_namespace_labels
from jobs.engines.policy.ports import normalize_protocol, ports_admit
from jobs.engines.policy.union import IPAddress, node_ips, with_endpoints
from jobs.engines.policy.universe import IsolationIndex, Verification, compare_universe, observed_classes
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

__all__ = ["Decision", "PolicySet", "Verification", "compile_policy", "verify"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one connection and the policies that isolate each side (`ns/name`)."""

    allowed: bool
    ingress_ok: bool
    egress_ok: bool
    ingress_policies: tuple[str, ...]
    egress_policies: tuple[str, ...]


class PolicySet:
    """Compiled policies over the known nodes; answers whether a connection is allowed.

    `namespace_labels` adds labels to namespaces (namespace -> labels) beyond the derived
    `kubernetes.io/metadata.name` and Hubble's copies of namespace labels on pods.
    """

    def __init__(
        self,
        policies: Iterable[Mapping[str, Any]],
        nodes: Iterable[NodeRecord],
        *,
        default_namespace: str = "default",
        namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.nodes = {node.key: node for node in nodes}
        ids = count()
        self.policies = [compile_policy(p, default_namespace=default_namespace, ids=ids) for p in policies]
        self._ns_labels = derive_namespace_labels(self.nodes.values(), namespace_labels)
        self._labels = {key: pod_labels(node.labels) for key, node in self.nodes.items()}
        self._ips = {key: node_ips(node) for key, node in self.nodes.items()}
        # generated sets repeat peers (DNS in every policy); reach depends only on peer + namespace
        self._peer_reach: dict[tuple[str, str], frozenset[str]] = {}
        # only pods of a policy's namespace can be selected, and a selector peer only reaches pods
        # of the namespaces it names: index once instead of testing every node against every peer
        self._selected_by: dict[str, list[CompiledPolicy]] = {}
        self._rule_reach: dict[int, frozenset[str]] = {}
        self._policies_in: dict[str | None, list[CompiledPolicy]] = {}
        for policy in self.policies:
            self._policies_in.setdefault(policy.namespace, []).append(policy)
        self._by_namespace: dict[str | None, list[NodeRecord]] = {}
        for node in self.nodes.values():
            self._by_namespace.setdefault(node.namespace if node.kind == "workload" else None, []).append(node)

    def decide(
        self, src: NodeRecord | str, dst: NodeRecord | str, port: int | None, protocol: str = "TCP"
    ) -> Decision:
        """Decide one connection from `src` to `dst` on destination `port` and `protocol`."""
        source, target = self._node(src), self._node(dst)
        proto = normalize_protocol(protocol)
        in_pols = [p for p in self._selecting(target) if p.ingress is not None]
        eg_pols = [p for p in self._selecting(source) if p.egress is not None]
        ingress_ok = not in_pols or any(
            self._admits(rule, p, source, port, proto) for p in in_pols for rule in p.ingress or ()
        )
        egress_ok = not eg_pols or any(
            self._admits(rule, p, target, port, proto) for p in eg_pols for rule in p.egress or ()
        )
        return Decision(
            allowed=ingress_ok and egress_ok,
            ingress_ok=ingress_ok,
            egress_ok=egress_ok,
            ingress_policies=tuple(p.key for p in in_pols),
            egress_policies=tuple(p.key for p in eg_pols),
        )

    def allows(
        self, src: NodeRecord | str, dst: NodeRecord | str, port: int | None, protocol: str = "TCP"
    ) -> bool:
        """Tell whether the connection is allowed (see `decide`)."""
        return self.decide(src, dst, port, protocol).allowed

    def selects(self, policy: CompiledPolicy, node: NodeRecord) -> bool:
        """Tell whether the policy's podSelector picks the node (only pods can be picked)."""
        if node.kind != "workload" or node.namespace != policy.namespace:
            return False
        return selector_matches(policy.pod_selector, self._labels_of(node))

    def peer_matches(self, peer: Peer, namespace: str, node: NodeRecord) -> bool:
        """Tell whether a peer of a policy in `namespace` covers `node`; podSelector and
        namespaceSelector AND, a podSelector alone means the policy's namespace."""
        if peer.cidr is not None:
            return any(
                ip in peer.cidr and not any(ip in ex for ex in peer.excepts) for ip in self._ips_of(node)
            )
        if node.kind != "workload" or node.namespace is None:
            return False
        if peer.namespace_selector is None:
            namespace_ok = node.namespace == namespace
        else:
            namespace_ok = selector_matches(peer.namespace_selector, self._namespace_labels(node.namespace))
        return namespace_ok and (
            peer.pod_selector is None or selector_matches(peer.pod_selector, self._labels_of(node))
        )

    def index(self) -> IsolationIndex:
        """Precompute isolation and rule reach over the known nodes, for `verify`."""
        nodes = list(self.nodes.values())
        in_rules: dict[str, list[int]] = {}
        eg_rules: dict[str, list[int]] = {}
        reach: dict[int, frozenset[str]] = {}
        ports: dict[int, tuple[PortRange, ...] | None] = {}
        for policy in self.policies:
            local = self._by_namespace.get(policy.namespace, ())
            selected = [node.key for node in local if self.selects(policy, node)]
            for rules, isolated in ((policy.ingress, in_rules), (policy.egress, eg_rules)):
                if rules is None:
                    continue
                for key in selected:
                    isolated.setdefault(key, []).extend(rule.rule_id for rule in rules)
                for rule in rules:
                    reach[rule.rule_id] = self._reach(rule, policy.namespace)
                    ports[rule.rule_id] = rule.ports
        workloads = frozenset(node.key for node in nodes if node.kind == "workload")
        return IsolationIndex(
            keys=tuple(self.nodes),
            workloads=workloads,
            in_rules=in_rules,
            eg_rules=eg_rules,
            reach=reach,
            ports=ports,
        )

    def _reach(self, rule: Rule, namespace: str) -> frozenset[str]:
        # rule ids are unique within the set and a rule's namespace is its policy's
        if rule.rule_id not in self._rule_reach:
            self._rule_reach[rule.rule_id] = self._peers_reach(rule, namespace)
        return self._rule_reach[rule.rule_id]

    def _peers_reach(self, rule: Rule, namespace: str) -> frozenset[str]:
        if rule.peers is None:
            return frozenset(self.nodes)
        reach: frozenset[str] = frozenset()
        for peer in rule.peers:
            # the policy's namespace only matters to a podSelector standing alone
            scope = namespace if peer.namespace_selector is None and peer.cidr is None else ""
            cache_key = (scope, repr(peer))
            if cache_key not in self._peer_reach:
                self._peer_reach[cache_key] = frozenset(
                    node.key for node in self._candidates(peer, namespace) if self.peer_matches(peer, namespace, node)
                )
            reach |= self._peer_reach[cache_key]
        return reach

    def _selecting(self, node: NodeRecord) -> list[CompiledPolicy]:
        """The policies whose podSelector picks the node (cached for known nodes)."""
        known = self.nodes.get(node.key) is node
        if known and node.key in self._selected_by:
            return self._selected_by[node.key]
        found = [p for p in self._policies_in.get(node.namespace, ()) if self.selects(p, node)]
        if known:
            self._selected_by[node.key] = found
        return found

    def _candidates(self, peer: Peer, namespace: str) -> list[NodeRecord]:
        """The nodes `peer` could match: all for an ipBlock, else the pods of the namespaces it names."""
        if peer.cidr is not None:
            return list(self.nodes.values())
        if peer.namespace_selector is None:
            return self._by_namespace.get(namespace, [])
        return [
            node
            for ns, nodes in self._by_namespace.items()
            if ns is not None and selector_matches(peer.namespace_selector, self._namespace_labels(ns))
            for node in nodes
        ]

    def _admits(
        self, rule: Rule, policy: CompiledPolicy, peer: NodeRecord, port: int | None, proto: str
    ) -> bool:
        if not ports_admit(rule.ports, port, proto):
            return False
        if rule.peers is None:
            return True
        if self.nodes.get(peer.key) is peer:
            return peer.key in self._reach(rule, policy.namespace)
        return any(self.peer_matches(p, policy.namespace, peer) for p in rule.peers)

    def _node(self, node: NodeRecord | str) -> NodeRecord:
        if isinstance(node, NodeRecord):
            return node
        if node not in self.nodes:
            raise KeyError(f"unknown node {node!r}")
        return self.nodes[node]

    def _labels_of(self, node: NodeRecord) -> dict[str, str]:
        known = self.nodes.get(node.key)
        return self._labels[node.key] if known is node else pod_labels(node.labels)

    def _ips_of(self, node: NodeRecord) -> tuple[IPAddress, ...]:
        known = self.nodes.get(node.key)
        return self._ips[node.key] if known is node else node_ips(node)

    def _namespace_labels(self, namespace: str) -> Mapping[str, str]:
        return self._ns_labels.get(namespace) or {NAMESPACE_NAME_LABEL: namespace}


def verify(
    policies: Iterable[Mapping[str, Any]],
    nodes: Iterable[NodeRecord],
    observed_edges: Iterable[EdgeRecord],
    *,
    default_namespace: str = "default",
    namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
    limit: int = 1000,
) -> Verification:
    """Check that the policies allow exactly the observed traffic among the known nodes.

    Universe: ordered pairs (src, dst) of known nodes (plus edge endpoints) with at least one
    workload (NetworkPolicy cannot touch traffic between two non-pods), self-pairs included for
    workloads (replicas talk to each other); times every protocol class: for TCP, UDP and SCTP
    the ports 1..65535 split into classes on which neither the policies' ranges nor the observed
    ports change the verdict (each observed port is a class of its own, each gap one class), an
    "unknown port" class where edges lack a port, and one class per other observed protocol
    (ICMP). Checking one representative per class decides every port, so `exact` means: no
    connection in the universe is allowed but unobserved, and none observed is denied.
    Observed edges between two non-pods lie outside the universe and are ignored. Lists hold at
    most `limit` connections each; the counts are complete.
    """
    edges = list(observed_edges)
    pset = PolicySet(
        policies,
        with_endpoints(nodes, edges),
        default_namespace=default_namespace,
        namespace_labels=namespace_labels,
    )
    return compare_universe(pset.index(), observed_classes(edges), limit=limit)
