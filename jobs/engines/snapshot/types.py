"""Plain records that the pure engines exchange: a snapshot's nodes and edges.

The snapshot builder produces them from canonical flow frames; the drift detector, the policy
generator and the graph layout consume them. No I/O and no ORM here, so every engine is unit-tested
on hand-made values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

NodeKind = Literal["workload", "ip", "external"]


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """One endpoint of the service graph.

    `key` is the identity: `namespace/name` for a workload the source knows (`cluster/namespace/name`
    outside the cluster `default`: `node_key`), else the IP address.
    """

    key: str
    name: str
    kind: NodeKind
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ips: tuple[str, ...] = ()

    @property
    def cluster(self) -> str:
        """The Kubernetes cluster of a workload (`default` for single-cluster data and for every IP)."""
        return key_cluster(self.key)


def node_key(namespace: str, name: str, cluster: str | None = None) -> str:
    """A workload's key: `namespace/name`, prefixed by `cluster/` outside the cluster `default`.

    Single-cluster data (no cluster, or `default`) keeps the keys it always had, so its snapshots,
    baselines and policies are unchanged; Kubernetes names never hold a `/`, so the parts stay apart.
    """
    base = f"{namespace}/{name}"
    return base if not cluster or cluster == DEFAULT_CLUSTER else f"{cluster}/{base}"


def key_cluster(key: str) -> str:
    """The cluster a node key names (`node_key`): `default` unless the key has three parts."""
    first, sep, rest = key.partition("/")
    return first if sep and "/" in rest else DEFAULT_CLUSTER


@dataclass(frozen=True, slots=True)
class EdgeRecord:
    """Traffic from `src` to `dst` on one destination port and protocol within one window.

    `src`/`dst` are node keys. `conn_starts` holds the sorted epoch-second start times of the
    connections behind the edge (capped at MAX_CONN_STARTS), which beacon detection needs.
    `unanswered` counts its flows nobody answered (`jobs.engines.detect.answered.canonical_answered`
    false); 0 when unknown (an edge read from the `edge` table, which does not keep it).
    """

    src: str
    dst: str
    dst_port: int | None
    protocol: str
    bytes: int
    packets: int
    flows: int
    rejected: int
    first_seen: datetime
    last_seen: datetime
    conn_starts: tuple[float, ...] = ()
    unanswered: int = 0

    @property
    def key(self) -> tuple[str, str, int | None, str]:
        return (self.src, self.dst, self.dst_port, self.protocol)


MAX_CONN_STARTS = 2048
# The cluster of single-cluster data and of flows that name none (models.namespaces.DEFAULT_CLUSTER).
DEFAULT_CLUSTER = "default"
