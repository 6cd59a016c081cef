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

    `key` is the identity: `namespace/name` for a workload the source knows, else the IP address.
    """

    key: str
    name: str
    kind: NodeKind
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ips: tuple[str, ...] = ()


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
