"""Plain builders of nodes, edges and snapshots for the drift engine's tests."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from jobs.engines.drift.records import Snapshot
from jobs.engines.snapshot.types import EdgeRecord, NodeKind, NodeRecord

T0 = datetime(2024, 4, 19, tzinfo=UTC)
HOUR = timedelta(hours=1)
NOW = T0 + timedelta(days=30)


def window(index: int) -> datetime:
    """Start of the hourly window `index` after T0."""
    return T0 + index * HOUR


def node(key: str, kind: NodeKind = "workload", **labels: str) -> NodeRecord:
    """A node; workload keys are `namespace/name`."""
    namespace, _, name = key.rpartition("/")
    return NodeRecord(key=key, name=name or key, kind=kind, namespace=namespace or None, labels=labels)


def edge(
    src: str, dst: str, port: int | None = 80, protocol: str = "tcp", *, nbytes: int = 10_000,
    flows: int = 10, starts: Sequence[float] = (), rejected: int = 0,
) -> EdgeRecord:
    """An edge of window 0; `starts` are offsets in seconds from the window start."""
    begin = T0
    absolute = tuple(sorted(begin.timestamp() + s for s in starts))
    first = begin + timedelta(seconds=min(starts, default=0))
    last = begin + timedelta(seconds=max(starts, default=3599))
    return EdgeRecord(src, dst, port, protocol, nbytes, max(1, nbytes // 500), flows, rejected,
                      first, last, absolute)


def snapshot(index: int, nodes: Iterable[NodeRecord], edges: Iterable[EdgeRecord]) -> Snapshot:
    """Snapshot of window `index`; edges built for window 0 are moved into that window."""
    dated = tuple(_redate(e, index) for e in edges)
    return Snapshot(window(index), window(index) + HOUR, tuple(nodes), dated)


def nodes_of(edges: Iterable[EdgeRecord], *, external: Iterable[str] = ()) -> list[NodeRecord]:
    """One node per endpoint; keys in `external` become external nodes."""
    outside = set(external)
    keys = sorted({e.src for e in edges} | {e.dst for e in edges})
    return [node(k, "external" if k in outside else "workload") for k in keys]


def periodic_starts(rng: random.Random, period: float, jitter: float, *, begin: float = 5.0,
                    end: float = 3600.0) -> list[float]:
    """Offsets every `period` ± `jitter` seconds (uniform) within [begin, end)."""
    starts, at = [], begin
    while at < end:
        starts.append(at)
        at += period + rng.uniform(-jitter, jitter)
    return starts


def poisson_starts(rng: random.Random, rate_per_hour: float, *, end: float = 3600.0) -> list[float]:
    """Offsets of a Poisson process with `rate_per_hour` within [0, end)."""
    starts, at = [], rng.expovariate(rate_per_hour / 3600.0)
    while at < end:
        starts.append(at)
        at += rng.expovariate(rate_per_hour / 3600.0)
    return starts


def _redate(e: EdgeRecord, index: int) -> EdgeRecord:
    shift = window(index) - T0
    starts = tuple(s + shift.total_seconds() for s in e.conn_starts)
    # replace keeps every other field (and the record's class)
    return replace(e, first_seen=e.first_seen + shift, last_seen=e.last_seen + shift, conn_starts=starts)
