"""What a candidate policy set would block of the traffic seen in the last snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobs.engines.policy.evaluate import Decision, PolicySet
from jobs.engines.policy.union import Snapshot, SnapshotUnion, merge_snapshots
from jobs.engines.snapshot.types import EdgeRecord


@dataclass(frozen=True, slots=True)
class BlockedEdge:
    """An observed edge the policies would deny, its traffic summed over the snapshots.

    `side` is `ingress`, `egress` or `both`: which end's policies refuse it; `policies` are the
    `namespace/name`s isolating that end (ingress first).
    """

    src: str
    dst: str
    dst_port: int | None
    protocol: str
    bytes: int
    packets: int
    flows: int
    snapshots: int
    first_seen: datetime
    last_seen: datetime
    side: str
    policies: tuple[str, ...]


def blocked_edges(
    policies: Iterable[Mapping[str, Any]],
    snapshots: Sequence[Snapshot],
    *,
    default_namespace: str = "default",
    namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[BlockedEdge]:
    """List the edges of `snapshots` (a list of (nodes, edges)) that `policies` would block,
    heaviest first (bytes, then flows), with bytes, packets, flows and snapshot counts.

    The candidate set is judged alone: pass the approved policies that stay in force with it.
    """
    return blocked_in_union(policies, merge_snapshots(snapshots), default_namespace=default_namespace,
                            namespace_labels=namespace_labels)


def blocked_in_union(
    policies: Iterable[Mapping[str, Any]],
    union: SnapshotUnion,
    *,
    default_namespace: str = "default",
    namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[BlockedEdge]:
    """`blocked_edges` on snapshots already merged (callers that judge several sets on one union)."""
    pset = PolicySet(
        policies,
        union.nodes.values(),
        default_namespace=default_namespace,
        namespace_labels=namespace_labels,
    )
    blocked = []
    for edge in union.edges:
        decision = pset.decide(edge.src, edge.dst, edge.dst_port, edge.protocol)
        if not decision.allowed:
            blocked.append(_blocked(edge, decision, union.seen_in.get(edge.key, 0)))
    return sorted(blocked, key=lambda b: (-b.bytes, -b.flows, b.src, b.dst, b.dst_port or 0, b.protocol))


def _blocked(edge: EdgeRecord, decision: Decision, snapshots: int) -> BlockedEdge:
    side = "egress" if decision.ingress_ok else ("ingress" if decision.egress_ok else "both")
    refusing = (() if decision.ingress_ok else decision.ingress_policies) + (
        () if decision.egress_ok else decision.egress_policies
    )
    return BlockedEdge(
        src=edge.src,
        dst=edge.dst,
        dst_port=edge.dst_port,
        protocol=edge.protocol,
        bytes=edge.bytes,
        packets=edge.packets,
        flows=edge.flows,
        snapshots=snapshots,
        first_seen=edge.first_seen,
        last_seen=edge.last_seen,
        side=side,
        policies=refusing,
    )
