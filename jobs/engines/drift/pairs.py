"""Beacon events: periodic connections from one source to one destination.

Per (src, dst) pair the connection starts of all ports are pooled, merged with the pair's interval
history from the baseline, and measured (`jobs.engines.drift.beacon`). A periodic pair is not reported when

- it is internal and was already periodic in a majority of the held windows, or present in a majority
  while its history was too short to measure (established);
- it is internal and its source already polls at least `SCRAPER_MIN_TARGETS` other internal
  targets periodically at about the same period (a metrics scraper adding a target);
- it hits a different port at almost every beat (a slow port scan, not a check-in).

A pair with an external end is reported every window it stays periodic: a call-home channel must
not fall silent because it became habitual.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from jobs.engines.drift.baseline import Baseline, PairHistory, extend_intervals
from jobs.engines.drift.beacon import Periodicity, measure_periodicity, merge_bursts
from jobs.engines.drift.known import known_index
from jobs.engines.drift.nodes import NodeView
from jobs.engines.drift.records import Detection, Snapshot
from jobs.engines.snapshot.types import EdgeRecord

SCAN_MIN_PORTS = 4
SCRAPER_MIN_TARGETS = 2


def pair_ports(edges: Iterable[Any], pair: tuple[str, str]) -> list[str]:
    """Sorted "port/protocol" strings of the edges (or edge baselines) of one pair."""
    return sorted({f"{e.dst_port}/{e.protocol}" for e in edges if (e.src, e.dst) == pair})


def ports_by_pair(edges: Iterable[Any], pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """`pair_ports` for each of `pairs` at once: one pass instead of one scan per pair."""
    found: dict[tuple[str, str], set[str]] = {}
    for e in edges:
        if (pair := (e.src, e.dst)) in pairs:
            found.setdefault(pair, set()).add(f"{e.dst_port}/{e.protocol}")
    return {pair: sorted(ports) for pair, ports in found.items()}


def edges_by_pair(edges: Iterable[Any]) -> dict[tuple[str, str], list[Any]]:
    """The edges of each (src, dst) pair, in their original order."""
    grouped: dict[tuple[str, str], list[Any]] = {}
    for e in edges:
        grouped.setdefault((e.src, e.dst), []).append(e)
    return grouped


def detect_beacons(current: Snapshot, known: Baseline, nodes: Mapping[str, NodeView]) -> list[Detection]:
    """Beacon detections of the current window, in (src, dst) order."""
    params = known.beacon
    found: list[Detection] = []
    grouped = edges_by_pair(current.edges)
    for (src, dst) in sorted(_candidates(grouped, known)):
        edges = grouped[(src, dst)]
        history = known.pairs.get((src, dst))
        external = nodes[src].external or nodes[dst].external
        if not external and history is not None and _established(history, known):
            continue  # an established internal poller: quiet whatever this window measures
        starts = merge_bursts((t for e in edges for t in e.conn_starts), params.burst_merge_s)
        periodicity = measure_periodicity(extend_intervals(history, starts, params.history_intervals), params)
        if not periodicity.periodic or _is_port_scan(edges, len(starts)):
            continue
        if not external and _is_new_target(src, dst, periodicity, known, nodes):
            continue
        facts = periodicity.to_facts() | _pair_facts(edges, history, known)
        facts["window_connections"] = len(starts)
        main = max(edges, key=lambda e: (len(e.conn_starts), e.bytes))
        found.append(Detection("beacon", src, dst, main.dst_port, main.protocol, facts))
    return found


def _candidates(grouped: Mapping[tuple[str, str], list[EdgeRecord]], known: Baseline) -> list[tuple[str, str]]:
    """Pairs with enough connections, this window's and their history's, to be periodic at all
    (most pairs of a window have one or two: they are dropped without sorting or measuring)."""
    needed = known.beacon.min_connections - 1  # intervals
    found: list[tuple[str, str]] = []
    for pair, edges in grouped.items():
        count = len(edges[0].conn_starts) if len(edges) == 1 else sum(len(e.conn_starts) for e in edges)
        if count == 0:
            continue
        if count < needed and (history := known.pairs.get(pair)) is not None:
            count += len(history.intervals)  # the bridge from the history's last start adds at most one
        if count >= needed:
            found.append(pair)
    return found


def _pair_facts(edges: list[EdgeRecord], history: PairHistory | None, known: Baseline) -> dict[str, Any]:
    flows = sum(e.flows for e in edges)
    rejected = min(1.0, sum(e.rejected for e in edges) / flows) if flows else 0.0
    return {
        "ports": pair_ports(edges, (edges[0].src, edges[0].dst)),
        "bytes": sum(e.bytes for e in edges),
        "rejected_share": round(rejected, 3),
        "windows_seen": len(history.windows) if history else 0,
        "periodic_windows": len(history.periodic_windows) if history else 0,
        "baseline_windows": known.held,
        "window_count": known.window_count,
    }


def _is_port_scan(edges: list[EdgeRecord], connections: int) -> bool:
    """A new port at (nearly) every beat is a slow port scan, not a check-in to one service."""
    ports = len({(e.dst_port, e.protocol) for e in edges if e.conn_starts})
    return ports >= SCAN_MIN_PORTS and 2 * ports >= connections


def _established(history: PairHistory, known: Baseline) -> bool:
    """Periodic in most held windows; or present in most of them while its history was still too short
    to measure (a long-standing pair that opens a connection or two per window becomes measurable only
    once enough windows have passed: that is old behaviour coming into view, not a new beacon)."""
    majority = max(1, math.ceil(known.held / 2))
    if len(history.periodic_windows) >= majority:
        return True
    return len(history.windows) >= majority and len(history.intervals) + 1 < known.beacon.min_connections


def _is_new_target(
    src: str, dst: str, periodicity: Periodicity, known: Baseline, nodes: Mapping[str, NodeView]
) -> bool:
    """An internal pair whose source already polls other internal targets at about this period."""
    tolerance = known.beacon.jitter_tolerance * periodicity.median_interval_s
    siblings = [
        pair for target, pair in known_index(known).pairs_by_source.get(src, ())
        if target != dst and not nodes[target].external and pair.intervals
        and _established(pair, known)
        and abs(statistics.median(pair.intervals) - periodicity.median_interval_s) <= tolerance
    ]
    return len(siblings) >= SCRAPER_MIN_TARGETS
