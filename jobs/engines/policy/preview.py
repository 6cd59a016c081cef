"""Impact preview and per-policy proof for the review workflow.

`candidate_impact` answers the reviewer's question "what would approving this policy block that
flows today?": the observed edges the candidate newly blocks on top of the policies already in
force. Only edges with an endpoint the candidate selects can change verdict, so the merge and the
evaluation run on those alone, which keeps a preview over 24 large snapshots well under a second.

`policy_verifications` splits one set-wide `Verification` into the part each policy answers for:
the connections into or out of the workload it selects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from jobs.engines.policy.compiled import compile_policy
from jobs.engines.policy.impact import BlockedEdge, blocked_in_union
from jobs.engines.policy.labels import pod_labels, selector_matches
from jobs.engines.policy.union import Snapshot, merge_snapshots, normalize_edge
from jobs.engines.policy.universe import Connection, Verification
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

SHOWN_CONNECTIONS = 200


def selected_keys(candidate: Mapping[str, Any], nodes: Iterable[NodeRecord]) -> frozenset[str]:
    """The keys of the pods (workload nodes) the candidate's podSelector picks."""
    compiled = compile_policy(candidate)
    return frozenset(
        node.key
        for node in nodes
        if node.kind == "workload"
        and node.namespace == compiled.namespace
        and selector_matches(compiled.pod_selector, pod_labels(node.labels))
    )


def touching(snapshots: Sequence[Snapshot], keys: frozenset[str]) -> list[Snapshot]:
    """The snapshots cut down to the edges with an endpoint in `keys` and those edges' endpoints."""
    cut: list[Snapshot] = []
    for nodes, edges in snapshots:
        kept = [edge for edge in edges if edge.src in keys or edge.dst in keys]
        ends = {key for edge in kept for key in (edge.src, edge.dst)}
        cut.append(([node for node in nodes if node.key in ends], kept))
    return cut


def candidate_impact(
    candidate: Mapping[str, Any],
    in_force: Sequence[Mapping[str, Any]],
    snapshots: Sequence[Snapshot],
    *,
    namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[BlockedEdge]:
    """The edges of `snapshots` that `in_force + [candidate]` blocks and `in_force` alone does not,
    heaviest first, with bytes, packets, flows and in how many snapshots each appeared.

    `in_force` are the approved or deployed policies that stay when the candidate is approved
    (leave out the version the candidate replaces).
    """
    keys = selected_keys(candidate, (node for nodes, _ in snapshots for node in nodes))
    if not keys:
        return []
    relevant = touching(snapshots, keys)
    # a policy selects pods of its own namespace only: others cannot change these edges' verdicts
    spaces = {node.namespace for nodes, _ in relevant for node in nodes if node.kind == "workload"}
    in_force = [p for p in in_force if str((p.get("metadata") or {}).get("namespace") or "default") in spaces]
    union = merge_snapshots(relevant)
    with_candidate = blocked_in_union([*in_force, candidate], union, namespace_labels=namespace_labels)
    before = {_key(b) for b in blocked_in_union(list(in_force), union, namespace_labels=namespace_labels)}
    return [b for b in with_candidate if _key(b) not in before]


def _key(blocked: BlockedEdge) -> tuple[str, str, int | None, str]:
    return (blocked.src, blocked.dst, blocked.dst_port, blocked.protocol)


def blocked_public(blocked: BlockedEdge) -> dict[str, Any]:
    """A blocked edge as JSON: times as ISO 8601, policies as a list."""
    data = asdict(blocked)
    data["first_seen"], data["last_seen"] = blocked.first_seen.isoformat(), blocked.last_seen.isoformat()
    data["policies"] = list(blocked.policies)
    return data


def connection_public(conn: Connection) -> dict[str, Any]:
    """A connection of a verification as JSON."""
    return {"src": conn.src, "dst": conn.dst, "protocol": conn.protocol, "port": conn.port, "end_port": conn.end_port}


def observed_connections(edges: Iterable[EdgeRecord]) -> dict[str, set[tuple[str, str, int | None, str]]]:
    """Per node key, the distinct observed (src, dst, port, protocol) it takes part in."""
    found: dict[str, set[tuple[str, str, int | None, str]]] = {}
    for raw in edges:
        edge = normalize_edge(raw)
        for key in {edge.src, edge.dst}:
            found.setdefault(key, set()).add(edge.key)
    return found


def policy_verifications(
    workloads: Sequence[str], verification: Verification, edges: Sequence[EdgeRecord]
) -> list[dict[str, Any]]:
    """For each workload (in order), the part of the set-wide verification that involves it.

    `exact` is True when no listed connection into or out of the workload is allowed-but-unobserved
    or observed-but-denied and the set-wide lists were complete (else it cannot be decided from
    them and is False). `observed` counts the distinct observed connections of the workload.
    """
    complete = (
        len(verification.allowed_not_observed) == verification.allowed_not_observed_count
        and len(verification.observed_not_allowed) == verification.observed_not_allowed_count
    )
    by_key = observed_connections(edges)
    results = []
    for key in workloads:
        extra = [c for c in verification.allowed_not_observed if key in (c.src, c.dst)]
        missing = [c for c in verification.observed_not_allowed if key in (c.src, c.dst)]
        exact = verification.exact or (complete and not extra and not missing)
        results.append({
            "exact": exact,
            "observed": len(by_key.get(key, ())),
            "allowed_not_observed": [connection_public(c) for c in extra[:SHOWN_CONNECTIONS]],
            "observed_not_allowed": [connection_public(c) for c in missing[:SHOWN_CONNECTIONS]],
            "allowed_not_observed_count": len(extra),
            "observed_not_allowed_count": len(missing),
            "set_exact": verification.exact,
            "set_complete": complete,
        })
    return results
