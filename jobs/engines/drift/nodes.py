"""What the scorer and detector need to know about a node, whichever snapshot it came from.

`external` means "an outside peer". Without the tenant's home networks it is what the snapshot builder
decided (a public address is external). With them (`jobs.engines.detect.home.HomeNetworks`) a home
address is never external, even a public one: an internet-facing sensor is ours, and calling it external
made every pair it took part in external → external.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.drift.baseline import Baseline
from jobs.engines.drift.records import Snapshot
from jobs.engines.snapshot.types import NodeKind


@dataclass(frozen=True, slots=True)
class NodeView:
    """A node's identity and labels; `external` is True for peers outside the home networks."""

    key: str
    name: str
    external: bool
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


def guess_external(key: str, home: HomeNetworks | None = None) -> bool:
    """True when the key is an outside peer's address (a node no snapshot described, or a record's address
    once the home networks are known).

    Without `home`: a globally routable address. With it: an address outside the home networks; multicast,
    link-local, loopback and unspecified addresses name no peer and are never external. A workload key (not
    an address) is never external."""
    if home is None:
        return _is_global(key)
    return _outside(key, home)


@lru_cache(maxsize=1 << 16)
def _is_global(key: str) -> bool:
    try:
        return ipaddress.ip_address(key).is_global
    except ValueError:
        return False


@lru_cache(maxsize=1 << 16)
def _outside(key: str, home: HomeNetworks) -> bool:
    try:
        address = ipaddress.ip_address(key)
    except ValueError:
        return False
    if address.is_multicast or address.is_link_local or address.is_loopback or address.is_unspecified:
        return False
    return home.network_of(key) is None


def is_home(key: str, home: HomeNetworks) -> bool:
    """True for a node of the tenant's own: a workload (a name, not an address) or a home address."""
    try:
        ipaddress.ip_address(key)
    except ValueError:
        return True
    return home.network_of(key) is not None


def record_external(key: str, kind: NodeKind, home: HomeNetworks | None) -> bool:
    """Whether a described node is an outside peer: the builder's kind, unless the home networks say more."""
    if kind == "workload":
        return False
    return kind == "external" if home is None else _outside(key, home)


def baseline_views(baseline: Baseline, home: HomeNetworks | None = None) -> dict[str, NodeView]:
    """Every node the baseline knows: its records, and edge endpoints no record describes."""
    views = {
        key: NodeView(key, node.name, record_external(key, node.kind, home), node.namespace, node.labels)
        for key, node in baseline.nodes.items()
    }
    endpoints = {k[0] for k in baseline.edges} | {k[1] for k in baseline.edges}
    for key in endpoints - views.keys():
        views[key] = NodeView(key, key, guess_external(key, home))
    return views


def node_views(
    current: Snapshot, baseline: Baseline, known: Mapping[str, NodeView] | None = None,
    home: HomeNetworks | None = None,
) -> dict[str, NodeView]:
    """Every node of the current snapshot and the baseline, current descriptions winning.

    `known` is `baseline_views(baseline, home)` when the caller has it already.
    """
    views = dict(baseline_views(baseline, home) if known is None else known)
    for node in current.nodes:
        views[node.key] = NodeView(node.key, node.name, record_external(node.key, node.kind, home), node.namespace,
                                   node.labels)
    # edges may name endpoints no node record describes; judge those by their address
    endpoints = {e.src for e in current.edges} | {e.dst for e in current.edges}
    for key in endpoints - views.keys():
        views[key] = NodeView(key, key, guess_external(key, home))
    return views
