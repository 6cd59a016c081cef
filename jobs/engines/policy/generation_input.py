"""What generation needs of its windows: the part that touches workloads, and how long each was observed.

A NetworkPolicy selects pods, so only the edges with a workload at one end can shape or test one. A
Zeek or VPC window holds none (its hosts are addresses), and a mixed window holds thousands of
address-to-address edges besides its pods' traffic: `workload_part` cuts every window down to the
workload edges before the union, which is what keeps generation over a week of hourly windows in
seconds. The cut keeps everything the evaluator can see a policy allow:
- every workload node (selectors and namespace selectors match only workloads);
- every node that is an endpoint of a kept edge in any window (so a peer's addresses are the union
  over all windows, as without the cut);
- every other node sharing an address with those (an `ipBlock` /32 admits it too, so the proof must
  still see it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from jobs.engines.policy.union import Snapshot
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord


@dataclass(frozen=True, slots=True)
class Observation:
    """The traffic behind one workload's policy: first and last flow seen, flows, and windows holding any."""

    first_seen: datetime
    last_seen: datetime
    flows: int
    windows: int

    @property
    def hours(self) -> float:
        """The observation span in hours (first flow seen to last)."""
        return (self.last_seen - self.first_seen).total_seconds() / 3600

    def public(self) -> dict[str, object]:
        """As stored with a policy's verification (times as ISO 8601)."""
        return {
            "observed_from": self.first_seen.isoformat(),
            "observed_to": self.last_seen.isoformat(),
            "observed_flows": self.flows,
            "observed_windows": self.windows,
        }


def workload_keys(snapshots: Sequence[Snapshot]) -> frozenset[str]:
    """The keys of the nodes that are workloads in any of the windows."""
    return frozenset(node.key for nodes, _ in snapshots for node in nodes if node.kind == "workload")


def workload_part(snapshots: Sequence[Snapshot]) -> list[Snapshot]:
    """Each window cut to the edges with a workload end and the nodes a policy could concern (module doc);
    windows left with nothing are dropped."""
    pods = workload_keys(snapshots)
    if not pods:
        return []
    kept_edges = [[e for e in edges if e.src in pods or e.dst in pods] for _, edges in snapshots]
    ends = {key for edges in kept_edges for edge in edges for key in (edge.src, edge.dst)}
    addresses = set(ends)
    for nodes, _ in snapshots:
        addresses.update(ip for node in nodes if node.key in ends for ip in node.ips)
    cut: list[Snapshot] = []
    for (nodes, _), edges in zip(snapshots, kept_edges, strict=True):
        kept_nodes = [n for n in nodes if n.key in pods or _shares_address(n, addresses)]
        if kept_nodes or edges:
            cut.append((kept_nodes, edges))
    return cut


def _shares_address(node: NodeRecord, addresses: set[str]) -> bool:
    return node.key in addresses or any(ip in addresses for ip in node.ips)


def observations(snapshots: Sequence[Snapshot]) -> dict[str, Observation]:
    """Per workload with traffic, the span of its flows (first to last seen), their count, and the windows."""
    pods = workload_keys(snapshots)
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    flows: dict[str, int] = {}
    windows: dict[str, int] = {}
    for _, edges in snapshots:
        here: set[str] = set()
        for edge in edges:
            for key in _pod_ends(edge, pods):
                _widen(first, last, key, edge)
                flows[key] = flows.get(key, 0) + edge.flows
                here.add(key)
        for key in here:
            windows[key] = windows.get(key, 0) + 1
    return {key: Observation(first[key], last[key], flows[key], windows[key]) for key in first}


def _pod_ends(edge: EdgeRecord, pods: frozenset[str]) -> set[str]:
    return {key for key in (edge.src, edge.dst) if key in pods}


def _widen(first: dict[str, datetime], last: dict[str, datetime], key: str, edge: EdgeRecord) -> None:
    if key not in first or edge.first_seen < first[key]:
        first[key] = edge.first_seen
    if key not in last or edge.last_seen > last[key]:
        last[key] = edge.last_seen
