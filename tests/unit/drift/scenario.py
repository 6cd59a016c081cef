"""A labelled scenario: a steady microservice estate, then injected attacks.

Hourly windows of namespaced workloads (frontend→api→postgres, api→redis, everything→kube-dns on
53/udp, prometheus scraping every workload every 30 s, a nightly-style backup to an external
store, a payment gateway) with log-normal noise on volumes, Poisson connection arrivals and a
little benign churn: an occasional frontend→cart call, a `shop/search` workload deployed halfway.

The attack window (index `baseline_windows`) adds benign churn (a new `shop/recommender`
workload, an idle worker) and the injected attacks, whose (src, dst, dst_port) are in `injected`:
lateral movement from shop/catalog to six peers it never talked to, a new SSH path
frontend→api:22/tcp, an exfiltration spike worker→backup store, and a beacon from shop/cart to
an external IP every ~300 s ± 30 s (a new external peer to drift; its rhythm is detection's).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta

from jobs.engines.drift.records import Snapshot
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

from .builders import HOUR, node, periodic_starts, poisson_starts, window

EdgeKey3 = tuple[str, str, int | None]
# (src, dst, port, protocol, median bytes per window, connections per hour)
FlowSpec = tuple[str, str, int, str, float, float]

LABELS: dict[str, dict[str, str]] = {
    "shop/frontend": {"app": "frontend", "tier": "web"},
    "shop/api": {"app": "api", "tier": "backend"},
    "shop/cart": {"app": "cart", "tier": "backend"},
    "shop/catalog": {"app": "catalog", "tier": "backend"},
    "shop/worker": {"app": "worker", "tier": "batch"},
    "shop/postgres": {"app": "postgres", "tier": "db"},
    "shop/redis": {"app": "redis", "tier": "cache"},
    "payments/payments": {"app": "payments", "tier": "backend"},
    "payments/payments-db": {"app": "postgres", "tier": "db"},
    "monitoring/prometheus": {"app": "prometheus"},
    "kube-system/kube-dns": {"k8s-app": "kube-dns"},
    "shop/search": {"app": "search", "tier": "backend"},
    "shop/recommender": {"app": "recommender", "tier": "backend"},
}
BACKUP, GATEWAY, C2 = "52.94.0.10", "151.101.1.69", "45.77.23.9"
CRITICALITY = {"tier=db": 1.0, "app=payments": 0.8, "tier=cache": 0.4}

STEADY: tuple[FlowSpec, ...] = (
    ("shop/frontend", "shop/api", 8080, "tcp", 40e6, 3000),
    ("shop/frontend", "shop/catalog", 8080, "tcp", 25e6, 1500),
    ("shop/api", "shop/postgres", 5432, "tcp", 12e6, 600),
    ("shop/api", "shop/redis", 6379, "tcp", 3e6, 1200),
    ("shop/api", "shop/cart", 8080, "tcp", 5e6, 800),
    ("shop/api", "payments/payments", 8443, "tcp", 2e6, 120),
    ("shop/cart", "shop/redis", 6379, "tcp", 2e6, 900),
    ("shop/catalog", "shop/postgres", 5432, "tcp", 6e6, 300),
    ("shop/worker", "shop/postgres", 5432, "tcp", 8e6, 60),
    ("shop/worker", BACKUP, 443, "tcp", 50e6, 12),
    ("payments/payments", "payments/payments-db", 5432, "tcp", 1e6, 120),
    ("payments/payments", GATEWAY, 443, "tcp", 0.5e6, 120),
)
SEARCH: tuple[FlowSpec, ...] = (
    ("shop/frontend", "shop/search", 8080, "tcp", 8e6, 700),
    ("shop/search", "shop/catalog", 8080, "tcp", 4e6, 400),
)
LATERAL_PEERS = (
    ("shop/redis", 6379), ("payments/payments", 8443), ("payments/payments-db", 5432),
    ("shop/cart", 8080), ("shop/worker", 8080), ("monitoring/prometheus", 9090),
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Past windows, the attack window, and the labels of what was injected into it."""

    history: tuple[Snapshot, ...]
    attack: Snapshot
    injected: frozenset[EdgeKey3]
    criticality: dict[str, float]


def build_scenario(seed: int = 7, baseline_windows: int = 24) -> Scenario:
    """The estate for `baseline_windows` steady hours, then one window with attacks."""
    rng = random.Random(seed)
    history = tuple(_steady_window(rng, i) for i in range(baseline_windows))
    steady = _steady_window(rng, baseline_windows, idle_worker=True, recommender=True)
    injected_edges = _attack_edges(rng, baseline_windows)
    attack = Snapshot(steady.window_start, steady.window_end,
                      _nodes_for([*steady.edges, *injected_edges]), (*steady.edges, *injected_edges))
    injected = frozenset((e.src, e.dst, e.dst_port) for e in injected_edges)
    return Scenario(history, attack, injected, dict(CRITICALITY))


def steady_window(seed: int, index: int) -> Snapshot:
    """One more steady window (with shop/search deployed), e.g. for the window after an attack."""
    return _steady_window(random.Random(seed * 1000 + index), index)


def followup_window(seed: int, index: int) -> Snapshot:
    """A window after the attack: exfiltration and beacon go on, and shop/cart probes payments-db."""
    rng = random.Random(seed * 1000 + index)
    steady = _steady_window(rng, index)
    kept = [e for e in steady.edges if (e.src, e.dst) != ("shop/worker", BACKUP)]
    attack = [e for e in _attack_edges(rng, index) if e.dst in (BACKUP, C2)]
    probe = _record(index, "shop/cart", "payments/payments-db", 5432, "tcp", 9_000, 2, [900.0, 960.0])
    edges = [*kept, *attack, probe]
    return Snapshot(steady.window_start, steady.window_end, _nodes_for(edges), tuple(edges))


def _steady_window(
    rng: random.Random, index: int, *, idle_worker: bool = False, recommender: bool = False
) -> Snapshot:
    specs = list(STEADY)
    if index >= 12:
        specs += SEARCH
    if rng.random() < 0.2:
        specs.append(("shop/frontend", "shop/cart", 8080, "tcp", 1e6, 50))
    if idle_worker:
        specs = [s for s in specs if s[:2] != ("shop/worker", "shop/postgres")]
    if recommender:
        specs.append(("shop/recommender", "shop/api", 8080, "tcp", 3e6, 400))
    workloads = sorted({k for s in specs for k in s[:2] if k in LABELS})
    edges = [_edge(rng, index, spec) for spec in specs]
    edges += [_edge(rng, index, (w, "kube-system/kube-dns", 53, "udp", 60e3, 300))
              for w in workloads if w != "kube-system/kube-dns"]
    edges += [_scrape(rng, index, w) for w in workloads if w not in ("monitoring/prometheus",
                                                                     "kube-system/kube-dns")]
    return Snapshot(window(index), window(index) + HOUR, _nodes_for(edges), tuple(edges))


def _edge(rng: random.Random, index: int, spec: FlowSpec, starts: list[float] | None = None) -> EdgeRecord:
    src, dst, port, protocol, median_bytes, rate = spec
    volume = int(median_bytes * math.exp(rng.gauss(0.0, 0.25)))
    # starts are sampled at ≤600/h to keep the tests fast; the real builder caps at 2048
    offsets = starts if starts is not None else poisson_starts(rng, min(rate, 600.0))
    flows = max(1, len(offsets) if rate <= 600 else int(rng.gauss(rate, math.sqrt(rate))))
    return _record(index, src, dst, port, protocol, volume, flows, offsets)


def _scrape(rng: random.Random, index: int, target: str) -> EdgeRecord:
    offsets = periodic_starts(rng, 30.0, 1.0, begin=rng.uniform(0, 30))
    return _record(index, "monitoring/prometheus", target, 9090, "tcp",
                   int(40e3 * len(offsets) * math.exp(rng.gauss(0, 0.1))), len(offsets), offsets)


def _attack_edges(rng: random.Random, index: int) -> list[EdgeRecord]:
    lateral = [_record(index, "shop/catalog", peer, port, "tcp", rng.randint(2_000, 20_000), 3,
                       sorted(rng.uniform(1500, 1800) for _ in range(3))) for peer, port in LATERAL_PEERS]
    ssh = _record(index, "shop/frontend", "shop/api", 22, "tcp", 420_000, 2, [600.0, 2400.0])
    exfil = _record(index, "shop/worker", BACKUP, 443, "tcp", 4_200_000_000, 40,
                    sorted(rng.uniform(0, 3600) for _ in range(40)))
    beacon_starts = periodic_starts(rng, 300.0, 30.0, begin=rng.uniform(0, 120))
    beacon = _record(index, "shop/cart", C2, 443, "tcp", 4_000 * len(beacon_starts),
                     len(beacon_starts), beacon_starts)
    return [*lateral, ssh, exfil, beacon]


def _record(index: int, src: str, dst: str, port: int, protocol: str, volume: int, flows: int,
            offsets: list[float]) -> EdgeRecord:
    begin = window(index)
    absolute = tuple(sorted(begin.timestamp() + o for o in offsets))
    first = begin + timedelta(seconds=min(offsets, default=0.0))
    last = begin + timedelta(seconds=max(offsets, default=3599.0))
    packets = max(1, volume // 900)
    return EdgeRecord(src, dst, port, protocol, volume, packets, flows, 0, first, last, absolute)


def _nodes_for(edges: list[EdgeRecord]) -> tuple[NodeRecord, ...]:
    keys = sorted({e.src for e in edges} | {e.dst for e in edges})
    return tuple(node(k, "workload", **LABELS[k]) if k in LABELS else node(k, "external") for k in keys)
