"""What the scorer and detector need to know about a node, whichever snapshot it came from."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from jobs.engines.drift.baseline import Baseline
from jobs.engines.drift.records import Snapshot


@dataclass(frozen=True, slots=True)
class NodeView:
    """A node's identity and labels; `external` is True for peers outside the private ranges."""

    key: str
    name: str
    external: bool
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


def guess_external(key: str) -> bool:
    """True when the key is a globally routable IP address (a node no snapshot described)."""
    try:
        return ipaddress.ip_address(key).is_global
    except ValueError:
        return False


def baseline_views(baseline: Baseline) -> dict[str, NodeView]:
    """Every node the baseline knows: its records, and edge endpoints no record describes."""
    views = {
        key: NodeView(key, node.name, node.kind == "external", node.namespace, node.labels)
        for key, node in baseline.nodes.items()
    }
    endpoints = {k[0] for k in baseline.edges} | {k[1] for k in baseline.edges}
    for key in endpoints - views.keys():
        views[key] = NodeView(key, key, guess_external(key))
    return views


def node_views(
    current: Snapshot, baseline: Baseline, known: Mapping[str, NodeView] | None = None
) -> dict[str, NodeView]:
    """Every node of the current snapshot and the baseline, current descriptions winning.

    `known` is `baseline_views(baseline)` when the caller has it already.
    """
    views = dict(baseline_views(baseline) if known is None else known)
    for node in current.nodes:
        views[node.key] = NodeView(node.key, node.name, node.kind == "external", node.namespace, node.labels)
    # edges may name endpoints no node record describes; judge those by their address
    endpoints = {e.src for e in current.edges} | {e.dst for e in current.edges}
    for key in endpoints - views.keys():
        views[key] = NodeView(key, key, guess_external(key))
    return views
