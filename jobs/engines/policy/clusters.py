"""Clusters as a dimension of policies (issue 19 A4): one policy set per cluster, selectors never mixing them.

A NetworkPolicy lives in one cluster and its selectors pick pods of that cluster only. So a cluster's
policies are generated and proven on its own view of the windows (`cluster_part`):
- its workloads as they are;
- every address node as it is (an `ipBlock` names an address wherever it is);
- the workloads of every other cluster as plain addresses (kind "ip", no namespace, no labels): seen from
  here a remote pod is its IP, so a peer across a cluster mesh gets an `ipBlock`, never a selector that
  would pick this cluster's look-alike pods;
- the edges with one of its workloads at an end.

Single-cluster data (every workload in `default`, or in one cluster) is handed through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from jobs.engines.policy.proof import ProvenSet, generate_and_prove
from jobs.engines.policy.union import Snapshot
from jobs.engines.snapshot.types import DEFAULT_CLUSTER, NodeRecord, key_cluster


def snapshot_clusters(snapshots: Iterable[Snapshot]) -> list[str]:
    """The clusters the windows' workloads belong to, sorted; `[default]` when there is none."""
    found = {node.cluster for nodes, _ in snapshots for node in nodes if node.kind == "workload"}
    return sorted(found) or [DEFAULT_CLUSTER]


def cluster_part(snapshots: Sequence[Snapshot], cluster: str) -> list[Snapshot]:
    """Each window as `cluster` sees it (module doc)."""
    if all(node.kind != "workload" or node.cluster == cluster for nodes, _ in snapshots for node in nodes):
        return list(snapshots)
    part: list[Snapshot] = []
    for nodes, edges in snapshots:
        kept = [edge for edge in edges if _here(edge.src, cluster) or _here(edge.dst, cluster)]
        part.append(([_as_seen(node, cluster) for node in nodes], kept))
    return part


def _here(key: str, cluster: str) -> bool:
    # A workload key names its cluster (`types.node_key`); an address is no cluster's workload.
    return "/" in key and key_cluster(key) == cluster


def _as_seen(node: NodeRecord, cluster: str) -> NodeRecord:
    if node.kind != "workload" or node.cluster == cluster:
        return node
    return replace(node, kind="ip", namespace=None, labels={})


def generate_per_cluster(
    snapshots: Sequence[Snapshot], *, snapshot_ids: Sequence[int] = (), clusters: Sequence[str] | None = None
) -> dict[str, ProvenSet]:
    """`proof.generate_and_prove` once per cluster (all the windows' clusters, or those given)."""
    chosen = clusters if clusters is not None else snapshot_clusters(snapshots)
    return {
        cluster: generate_and_prove(cluster_part(snapshots, cluster), snapshot_ids=snapshot_ids)
        for cluster in chosen
    }
