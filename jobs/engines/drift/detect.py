"""Drift detection: compare the current snapshot with the baseline (and the previous snapshot).

Rules, chosen to keep the event stream quiet on a steady estate:

- learning: with an empty baseline and no (or an empty) previous snapshot nothing is reported;
- an empty current snapshot is a collection gap, not the whole graph vanishing: no events;
- the previous snapshot, when given and newer than the baseline, is folded into the baseline, so
  "known" means seen in any of the last N windows or in the previous one;
- `new_external` (one per source→peer pair, the peer external and never seen) wins over
  `new_port` (pair known, this port/protocol never seen) which wins over `new_edge`;
- `new_node` is reported for internal nodes only (external ones are `new_external`), never for a
  multicast, link-local, loopback or unspecified address (they name no host);
- `removed_edge`: the edge was in the previous window and in at least `removed_min_presence` of the
  held windows, and is absent now: reported once, when a stable edge disappears;
- `traffic_spike`: upward only: bytes or flows at least `spike_over_max` times the edge's upper
  quartile over its baseline windows and a robust z-score of at least `spike_z` against them;
- drift defers to detection (`jobs.engines.drift.defer`): ICMP edges, and some edges of outside sources,
  raise nothing. Periodic connections (beacons) are detection's too (`jobs.engines.detect.beacons`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, cast

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.drift.baseline import (
    Baseline,
    BaselineOrderError,
    EdgeBaseline,
    EdgeKey,
    VolumeStats,
    epoch,
    update_baseline,
    volume_stats,
)
from jobs.engines.drift.defer import Deferral, names_no_host
from jobs.engines.drift.known import KnownIndex, known_index
from jobs.engines.drift.nodes import NodeView, node_views
from jobs.engines.drift.records import Detection, EventKind, Snapshot
from jobs.engines.snapshot.types import EdgeRecord


@dataclass(frozen=True, slots=True)
class DetectParams:
    """Thresholds of the detector; the constructor rejects nonsense values."""

    spike_z: float = 6.0
    spike_min_windows: int = 6
    spike_rel_floor: float = 0.3
    bytes_floor: float = 4096.0
    flows_floor: float = 2.0
    removed_min_presence: float = 0.5
    spike_over_max: float = 2.0

    def __post_init__(self) -> None:
        if self.spike_z <= 0 or self.spike_min_windows < 2:
            raise ValueError("spike_z must be positive and spike_min_windows at least 2")
        if self.spike_rel_floor <= 0 or self.bytes_floor <= 0 or self.flows_floor <= 0:
            raise ValueError("std floors must be positive so a flat baseline cannot divide by zero")
        if self.spike_over_max < 1:
            raise ValueError("spike_over_max must be at least 1: a spike exceeds the edge's usual range")
        if not 0 < self.removed_min_presence <= 1:
            raise ValueError("removed_min_presence must lie in (0, 1]")


def with_previous(baseline: Baseline, previous: Snapshot | None) -> Baseline:
    """The baseline including `previous` when that window is newer than all it holds."""
    if previous is None or previous.is_empty:
        return baseline
    baseline_newest = baseline.windows[-1] if baseline.windows else -math.inf
    if epoch(previous.window_start) <= baseline_newest:
        return baseline
    return update_baseline(baseline, previous)


@dataclass(frozen=True, slots=True)
class _Context:
    """One window's detection: the baseline compared against, its index, the node views and the deferral."""

    known: Baseline
    index: KnownIndex
    nodes: Mapping[str, NodeView]
    deferral: Deferral
    window: float


def detect_with_context(
    current: Snapshot, previous: Snapshot | None, baseline: Baseline, params: DetectParams | None = None,
    deferral: Deferral | None = None,
) -> tuple[list[Detection], Baseline, dict[str, NodeView]]:
    """All drift findings of `current` (unscored, in no particular order), plus the baseline it compared
    against (`previous` folded in) and the node views it used, which scoring needs too (each costs a pass
    over both graphs). `deferral` says what detection already covers (nothing by default).
    Raises `BaselineOrderError` when `baseline` already holds the current window."""
    params = params or DetectParams()
    deferral = deferral or Deferral()
    if epoch(current.window_start) in baseline.windows:
        # against itself every edge is known: the job must analyse before it updates the baseline
        raise BaselineOrderError("the baseline already holds the window being analysed")
    known = with_previous(baseline, previous)
    if current.is_empty or known.held == 0:
        return [], known, {}
    index = known_index(known, deferral.home)
    nodes = node_views(current, known, index.views, deferral.home)
    context = _Context(known, index, nodes, deferral, epoch(current.window_start))
    found = [
        *_novel_edges(current, context),
        *_new_nodes(current, context),
        *_removed_edges(current, context, params),
        *_spikes(current, context, params),
    ]
    return found, known, nodes


def _novel_edges(current: Snapshot, context: _Context) -> list[Detection]:
    known, index, nodes = context.known, context.index, context.nodes
    seen = index.seen
    fresh = [e for e in current.edges if (e.src, e.dst, e.dst_port, e.protocol) not in known.edges]
    # deferred edges are dropped before a pair's event is chosen, so another edge of the pair may still speak
    kept = [e for e in fresh if context.deferral.edge_rule(e, nodes, context.window) is None]
    # the biggest edge of a pair carries its new_external event; the key breaks ties
    novel = sorted(kept, key=lambda e: (-e.bytes, e.src, e.dst, e.dst_port or -1, e.protocol))
    pairs = {(e.src, e.dst) for e in novel}
    fan_out = Counter(src for src, _ in pairs if src in seen)
    current_ports, known_ports = ports_by_pair(current.edges, pairs), ports_by_pair(known.edges.values(), pairs)
    found: list[Detection] = []
    external_pairs: set[tuple[str, str]] = set()
    for edge in novel:
        pair = (edge.src, edge.dst)
        peer = _new_external_peer(edge, seen, nodes)
        if peer is not None and pair in external_pairs:
            continue
        kind: EventKind = "new_external" if peer else "new_port" if pair in index.pairs else "new_edge"
        facts = _edge_facts(edge, known) | {"new_peers": fan_out.get(edge.src, 0)}
        if peer is not None:
            external_pairs.add(pair)
            facts |= {"peer": peer, "ports": current_ports.get(pair, []),
                      "known_outside_peers": index.outside_peers.get(edge.src, 0)}
        if kind == "new_port":
            facts |= {"known_ports": known_ports.get(pair, [])}
        sources = index.reach.get((edge.dst, edge.dst_port, edge.protocol), 0)
        facts |= {"target_sources": sources, "known_sources": index.sources}
        found.append(Detection(kind, edge.src, edge.dst, edge.dst_port, edge.protocol, facts))
    return found


def ports_by_pair(edges: Iterable[Any], pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """Sorted "port/protocol" strings of the edges (or edge baselines) of each of `pairs`, in one pass."""
    found: dict[tuple[str, str], set[str]] = {}
    for e in edges:
        if (pair := (e.src, e.dst)) in pairs:
            found.setdefault(pair, set()).add(f"{e.dst_port}/{e.protocol}")
    return {pair: sorted(ports) for pair, ports in found.items()}


def _new_external_peer(edge: EdgeRecord, seen: AbstractSet[str], nodes: Mapping[str, NodeView]) -> str | None:
    for key in (edge.dst, edge.src):
        if nodes[key].external and key not in seen:
            return key
    return None


def _edge_facts(edge: EdgeRecord, known: Baseline) -> dict[str, Any]:
    entry = known.edges.get(edge.key)
    return {
        "bytes": edge.bytes,
        "flows": edge.flows,
        "packets": edge.packets,
        "unanswered": edge.unanswered,
        "windows_seen": entry.windows_seen if entry else 0,
        "baseline_windows": known.held,
        "window_count": known.window_count,
    }


def _new_nodes(current: Snapshot, context: _Context) -> list[Detection]:
    known, seen, nodes = context.known, context.index.seen, context.nodes
    found: list[Detection] = []
    fresh = [node for node in current.nodes
             if node.key not in seen and not nodes[node.key].external and not names_no_host(node.key)]
    wanted = {node.key for node in fresh}
    touching: dict[str, list[int]] = {key: [0, 0] for key in wanted}
    for e in current.edges if wanted else ():
        for key in {e.src, e.dst} & wanted:
            tally = touching[key]
            tally[0], tally[1] = tally[0] + 1, tally[1] + e.bytes
    for node in fresh:
        count, size = touching[node.key]
        facts = {
            "node_kind": node.kind,
            "namespace": node.namespace,
            "labels": dict(node.labels),
            "edges": count,
            "bytes": size,
            "windows_seen": 0,
            "baseline_windows": known.held,
            "window_count": known.window_count,
        }
        found.append(Detection("new_node", node.key, node.key, None, "", facts))
    return found


def _removed_edges(current: Snapshot, context: _Context, params: DetectParams) -> list[Detection]:
    known = context.known
    present = {(e.src, e.dst, e.dst_port, e.protocol) for e in current.edges}
    latest = known.windows[-1]
    needed = max(1, math.ceil(params.removed_min_presence * known.held))
    found: list[Detection] = []
    for key, entry in known.edges.items():
        if key in present or entry.samples[-1].window != latest or entry.windows_seen < needed:
            continue
        if context.deferral.removed_rule(key[0], key[3], context.nodes) is not None:
            continue
        facts = {
            "windows_seen": entry.windows_seen,
            "baseline_windows": known.held,
            "window_count": known.window_count,
            "bytes_median": entry.bytes_stats.median,
            "last_seen": entry.last_seen.isoformat(),
        }
        found.append(Detection("removed_edge", *key, facts))
    return found


def robust_z(value: float, stats: VolumeStats, *, rel_floor: float, abs_floor: float) -> float:
    """(value - median) / scale, the scale being 1.4826·MAD floored so a flat baseline stays sane."""
    scale = max(1.4826 * stats.mad, rel_floor * stats.median, abs_floor)
    return (value - stats.median) / scale


def _spikes(current: Snapshot, context: _Context, params: DetectParams) -> list[Detection]:
    known = context.known
    found: list[Detection] = []
    thresholds = spike_thresholds(known, params)
    for edge in current.edges:
        key = (edge.src, edge.dst, edge.dst_port, edge.protocol)
        limit = thresholds.get(key)
        if limit is None or (edge.bytes < limit[0] and edge.flows < limit[1]):
            continue
        if context.deferral.edge_rule(edge, context.nodes, context.window) is not None:
            continue
        entry = known.edges[key]
        z_bytes, z_flows = _volume_z(edge, entry, params)
        on = [name for name, z, value, least in (("bytes", z_bytes, edge.bytes, limit[0]),
                                                 ("flows", z_flows, edge.flows, limit[1]))
              if value >= least and z >= params.spike_z]
        if not on:
            continue
        facts = _edge_facts(edge, known) | {
            "z_bytes": round(z_bytes, 2),
            "z_flows": round(z_flows, 2),
            "bytes_median": entry.bytes_stats.median,
            "flows_median": entry.flows_stats.median,
            "spike_z": params.spike_z,
            "spike_on": max(on, key=lambda name: z_bytes if name == "bytes" else z_flows),
        }
        found.append(Detection("traffic_spike", *key, facts))
    return found


def spike_thresholds(known: Baseline, params: DetectParams) -> dict[EdgeKey, tuple[float, float]]:
    """Per mature edge, the least bytes and the least flows that would be a spike (kept on the baseline).

    A value spikes when it is at least `spike_over_max` times the edge's upper quartile (so a continuing
    outlier still stands out, but a value within the range the edge usually spans does not) and its
    robust z-score reaches `spike_z`: z ≥ spike_z ⇔ value ≥ median + spike_z·scale.
    """
    cache_key = ("spike_thresholds", params)
    found = known.derived.get(cache_key)
    if found is None:
        found = {
            key: (_least_spike([s.bytes for s in entry.samples], params, params.bytes_floor),
                  _least_spike([s.flows for s in entry.samples], params, params.flows_floor))
            for key, entry in known.edges.items() if len(entry.samples) >= params.spike_min_windows
        }
        known.derived[cache_key] = found
    return cast(dict[EdgeKey, tuple[float, float]], found)


def _least_spike(values: list[int], params: DetectParams, floor: float) -> float:
    stats = volume_stats(values)
    ordered = sorted(values)
    upper_quartile = ordered[math.ceil(0.75 * len(ordered)) - 1]
    scale = max(1.4826 * stats.mad, params.spike_rel_floor * stats.median, floor)
    return max(stats.median + params.spike_z * scale, params.spike_over_max * upper_quartile)


def prepare(known: Baseline, params: DetectParams | None = None, home: HomeNetworks | None = None) -> None:
    """Build the baseline's lookups now (the drift job does it right after sliding the baseline, so
    the next window's detection finds them ready)."""
    known_index(known, home)
    spike_thresholds(known, params or DetectParams())


def _volume_z(edge: EdgeRecord, entry: EdgeBaseline, params: DetectParams) -> tuple[float, float]:
    z_bytes = robust_z(edge.bytes, entry.bytes_stats, rel_floor=params.spike_rel_floor,
                       abs_floor=params.bytes_floor)
    z_flows = robust_z(edge.flows, entry.flows_stats, rel_floor=params.spike_rel_floor,
                       abs_floor=params.flows_floor)
    return z_bytes, z_flows
