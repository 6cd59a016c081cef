"""NetworkPolicy manifests reduced to what decides traffic: selectors, peers, port ranges.

`policyTypes` defaulting follows the API server: without it, Ingress always, Egress only when
the policy has at least one egress rule (`egress: []` adds none).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import count
from typing import Any

from jobs.engines.policy.errors import PolicyError
from jobs.engines.policy.ports import port_range

PortRange = tuple[str, int | None, int | None]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
POLICY_TYPES = frozenset({"Ingress", "Egress"})


@dataclass(frozen=True, slots=True)
class Peer:
    """One NetworkPolicyPeer; selectors are None when absent, `cidr` set for an ipBlock."""

    pod_selector: Mapping[str, Any] | None = None
    namespace_selector: Mapping[str, Any] | None = None
    cidr: IPNetwork | None = None
    excepts: tuple[IPNetwork, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """One ingress or egress rule; None peers or ports mean "all"."""

    rule_id: int
    peers: tuple[Peer, ...] | None
    ports: tuple[PortRange, ...] | None


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy reduced to what decides traffic; `ingress`/`egress` None when not of that type."""

    key: str
    namespace: str
    pod_selector: Mapping[str, Any]
    ingress: tuple[Rule, ...] | None
    egress: tuple[Rule, ...] | None


def compile_policy(
    manifest: Mapping[str, Any], *, default_namespace: str = "default", ids: Iterable[int] | None = None
) -> CompiledPolicy:
    """Read a NetworkPolicy manifest; a missing `metadata.namespace` becomes `default_namespace`
    (where `kubectl apply` would put it). Raises PolicyError / UnsupportedPolicyError."""
    if manifest.get("kind", "NetworkPolicy") != "NetworkPolicy":
        raise PolicyError(f"kind {manifest.get('kind')!r} is not NetworkPolicy")
    metadata = manifest.get("metadata") or {}
    namespace = str(metadata.get("namespace") or default_namespace)
    key = f"{namespace}/{metadata.get('name') or '?'}"
    spec = manifest.get("spec") or {}
    types = spec.get("policyTypes") or ["Ingress"] + (["Egress"] if spec.get("egress") else [])
    if not set(types) <= POLICY_TYPES:
        raise PolicyError(f"bad policyTypes {types!r}", policy=key, path="spec.policyTypes")
    rule_ids = iter(ids) if ids is not None else count()
    ingress = _rules(spec.get("ingress"), "from", key, rule_ids) if "Ingress" in types else None
    egress = _rules(spec.get("egress"), "to", key, rule_ids) if "Egress" in types else None
    selector = spec.get("podSelector") or {}
    return CompiledPolicy(key=key, namespace=namespace, pod_selector=selector, ingress=ingress, egress=egress)


def _rules(raw: Any, field: str, key: str, ids: Iterable[int]) -> tuple[Rule, ...]:
    if raw is not None and not isinstance(raw, list):
        raise PolicyError(f"rules must be a list, not {type(raw).__name__}", policy=key, path=field)
    rules = []
    for (index, item), rule_id in zip(enumerate(raw or []), ids, strict=False):
        rule = item or {}
        if not isinstance(rule, Mapping):
            raise PolicyError("rule is not a mapping", policy=key, path=f"{field}[{index}]")
        peers = tuple(_peer(peer, key) for peer in rule.get(field) or []) or None
        ports = tuple(port_range(entry, policy=key) for entry in rule.get("ports") or []) or None
        rules.append(Rule(rule_id=rule_id, peers=peers, ports=ports))
    return tuple(rules)


def _peer(raw: Any, key: str) -> Peer:
    peer = raw if isinstance(raw, Mapping) else {}
    block = peer.get("ipBlock")
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    if block is None and pods is None and namespaces is None:
        raise PolicyError(f"peer {raw!r} has no selector or ipBlock", policy=key, path="peers")
    if block is None:
        return Peer(pod_selector=pods, namespace_selector=namespaces)
    if pods is not None or namespaces is not None:
        raise PolicyError("ipBlock cannot be combined with selectors", policy=key, path="peers")
    try:
        cidr = ipaddress.ip_network(str(block.get("cidr")), strict=False)
        excepts = tuple(ipaddress.ip_network(str(ex), strict=False) for ex in block.get("except") or [])
    except ValueError as err:
        raise PolicyError(f"bad ipBlock: {err}", policy=key, path="ipBlock") from err
    return Peer(cidr=cidr, excepts=excepts)
