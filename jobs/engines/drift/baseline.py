"""The rolling baseline: what the last N windows looked like, per edge and node.

Each entry keeps the windows it was present in (so the baseline slides without rereading
snapshots); edges keep one (bytes, flows) sample per present window, from which the mean/std and
the robust median/MAD are derived. `build_baseline` folds `update_baseline` over past snapshots.
The baseline must not contain the window being analysed. Connection timing (beacons) is the
detection engine's (`jobs.engines.detect.beacons`), which keeps its own day of history.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from jobs.engines.drift.records import Snapshot
from jobs.engines.snapshot.types import NodeKind

EdgeKey = tuple[str, str, int | None, str]
DEFAULT_WINDOW_COUNT = 24


class BaselineOrderError(ValueError):
    """A snapshot older than the baseline's newest window was offered to `update_baseline`."""


@dataclass(frozen=True, slots=True)
class VolumeStats:
    """Mean/std (for display and the `baseline` table) and median/MAD (for robust z-scores)."""

    mean: float
    std: float
    median: float
    mad: float


@dataclass(frozen=True, slots=True)
class EdgeSample:
    window: float
    bytes: int
    flows: int


@dataclass(frozen=True, slots=True)
class EdgeBaseline:
    """One edge key's presence and volumes over the baseline windows (samples oldest first)."""

    src: str
    dst: str
    dst_port: int | None
    protocol: str
    samples: tuple[EdgeSample, ...]
    last_seen: datetime

    @property
    def key(self) -> EdgeKey:
        return (self.src, self.dst, self.dst_port, self.protocol)

    @property
    def windows_seen(self) -> int:
        return len(self.samples)

    @property
    def bytes_stats(self) -> VolumeStats:
        return volume_stats([s.bytes for s in self.samples])

    @property
    def flows_stats(self) -> VolumeStats:
        return volume_stats([s.flows for s in self.samples])


@dataclass(frozen=True, slots=True)
class NodeBaseline:
    """A node seen in the baseline, with its latest name, kind and labels."""

    key: str
    name: str
    kind: NodeKind
    namespace: str | None
    labels: Mapping[str, str]
    windows: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Baseline:
    """The last `window_count` windows summarised; `windows` are epoch-second window starts."""

    window_count: int = DEFAULT_WINDOW_COUNT
    windows: tuple[float, ...] = ()
    edges: Mapping[EdgeKey, EdgeBaseline] = field(default_factory=dict)
    nodes: Mapping[str, NodeBaseline] = field(default_factory=dict)
    # lookups derived from the fields above, filled on first use (`jobs.engines.drift.known`); `replace()` starts afresh
    derived: dict[Any, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.window_count < 1:
            raise ValueError("window_count must be at least 1")

    @property
    def held(self) -> int:
        """How many windows the baseline holds (≤ window_count)."""
        return len(self.windows)


def volume_stats(values: list[int]) -> VolumeStats:
    """Mean, population std, median and MAD of per-window volumes (zeros when empty).

    Plain float arithmetic: `statistics.pstdev` computes exactly with Fractions, which cost
    seconds over the tens of thousands of edges a baseline holds.
    """
    count = len(values)
    if not count:
        return VolumeStats(0.0, 0.0, 0.0, 0.0)
    mean = math.fsum(values) / count
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / count)
    median = _median(sorted(values))
    mad = _median(sorted(abs(v - median) for v in values))
    return VolumeStats(mean, std, median, mad)


def _median(ordered: list[int] | list[float]) -> float:
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def aware(moment: datetime) -> datetime:
    """The same instant, timezone-aware; naive datetimes are taken as UTC like the snapshot builder's."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def epoch(moment: datetime) -> float:
    """Epoch seconds of a datetime (naive = UTC)."""
    return aware(moment).timestamp()


def build_baseline(snapshots: Iterable[Snapshot], *, window_count: int = DEFAULT_WINDOW_COUNT) -> Baseline:
    """Fold past snapshots (any order, duplicates ignored) into a baseline of the last N windows."""
    baseline = Baseline(window_count=window_count)
    for snapshot in sorted(snapshots, key=lambda s: epoch(s.window_start)):
        baseline = update_baseline(baseline, snapshot)
    return baseline


def update_baseline(baseline: Baseline, snapshot: Snapshot) -> Baseline:
    """Add one window (newer than all held) and slide out the ones beyond `window_count`.

    Adding a window the baseline already holds returns it unchanged, so jobs may repeat.
    """
    window = epoch(snapshot.window_start)
    if window in baseline.windows:
        return baseline
    if baseline.windows and window < baseline.windows[-1]:
        raise BaselineOrderError(f"window {snapshot.window_start.isoformat()} is older than the baseline")
    windows = (*baseline.windows, window)[-baseline.window_count :]
    cutoff = windows[0]
    return replace(
        baseline,
        windows=windows,
        edges=_update_edges(baseline.edges, snapshot, window, cutoff),
        nodes=_update_nodes(baseline.nodes, snapshot, window, cutoff),
    )


def _update_edges(
    edges: Mapping[EdgeKey, EdgeBaseline], snapshot: Snapshot, window: float, cutoff: float
) -> dict[EdgeKey, EdgeBaseline]:
    # samples are oldest first: an entry whose first sample is still inside is kept as it is
    updated: dict[EdgeKey, EdgeBaseline] = {
        key: entry if entry.samples[0].window >= cutoff else replace(entry, samples=samples)
        for key, entry in edges.items()
        if entry.samples[0].window >= cutoff or (samples := tuple(s for s in entry.samples if s.window >= cutoff))
    }
    for edge in snapshot.edges:
        key = (edge.src, edge.dst, edge.dst_port, edge.protocol)
        sample = EdgeSample(window, edge.bytes, edge.flows)
        old = updated.get(key)
        last_seen = aware(edge.last_seen)
        if old is None:
            updated[key] = EdgeBaseline(edge.src, edge.dst, edge.dst_port, edge.protocol, (sample,), last_seen)
        else:
            updated[key] = EdgeBaseline(edge.src, edge.dst, edge.dst_port, edge.protocol, (*old.samples, sample),
                                        max(old.last_seen, last_seen))
    return updated


def _update_nodes(
    nodes: Mapping[str, NodeBaseline], snapshot: Snapshot, window: float, cutoff: float
) -> dict[str, NodeBaseline]:
    updated: dict[str, NodeBaseline] = {
        key: entry if entry.windows[0] >= cutoff else replace(entry, windows=windows)
        for key, entry in nodes.items()
        if entry.windows[0] >= cutoff or (windows := tuple(w for w in entry.windows if w >= cutoff))
    }
    for node in snapshot.nodes:
        held = updated[node.key].windows if node.key in updated else ()
        updated[node.key] = NodeBaseline(
            node.key, node.name, node.kind, node.namespace, dict(node.labels), (*held, window)
        )
    return updated
