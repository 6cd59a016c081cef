"""The demo estate's steady state: workloads, pod addresses and labels, service edges, flow records.

Pure helpers for `jobs/demo/estate.py` (no I/O). Times are integer epoch milliseconds until a
record is built, so every value is exact and the output is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

Record = dict[str, Any]

HOUR_MS: Final = 3_600_000
SCRAPE_PORT: Final = 9090
SCRAPE_EVERY_MS: Final = 30_000
DNS = "kube-system/kube-dns"
PROMETHEUS = "monitoring/prometheus"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Workload:
    """A Deployment/StatefulSet: its identity, labels and how chatty it is towards DNS."""

    namespace: str
    name: str
    tier: str
    version: str
    replicas: int = 1
    dns_per_hour: int = 40

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def labels(self, version: str) -> dict[str, str]:
        """Pod labels; CoreDNS keeps the `k8s-app=kube-dns` label that DNS policies select."""
        app = "k8s-app" if self.name == "kube-dns" else "app"
        return {app: self.name, "tier": self.tier, "version": version}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One side of a flow: a pod (named, labelled) or a bare address."""

    ip: str
    name: str | None = None
    namespace: str | None = None
    labels: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """A steady call path: flows per hour at the daily peak, typical size and duration."""

    src: str
    dst: str
    port: int
    per_hour: int
    median_bytes: int
    median_ms: int
    protocol: str = "tcp"
    diurnal: bool = True


@dataclass(frozen=True, slots=True)
class Churn:
    """Benign change: some replicas get new IPs (and maybe a version) part-way through the steady hours."""

    workload: str
    replicas: tuple[int, ...]
    at_fraction: float
    version: str | None = None


WORKLOADS: Final[tuple[Workload, ...]] = (
    Workload("kube-system", "ingress-nginx", "edge", "1.10.1"),
    Workload("kube-system", "kube-dns", "system", "1.11.1", replicas=2),
    Workload("shop", "frontend", "frontend", "2.3.0", replicas=2, dns_per_hour=30),
    Workload("shop", "api", "backend", "3.8.1", replicas=2, dns_per_hour=60),
    Workload("shop", "cart", "backend", "1.9.0"),
    Workload("shop", "checkout", "backend", "2.0.4"),
    Workload("shop", "catalog", "backend", "4.1.2"),
    Workload("shop", "search", "backend", "1.4.2"),
    Workload("data", "postgres", "db", "16.3", dns_per_hour=12),
    Workload("data", "redis", "cache", "7.2.5", dns_per_hour=12),
    Workload("data", "kafka", "messaging", "3.7.0", dns_per_hour=20),
    Workload("monitoring", "prometheus", "monitoring", "2.53.0", dns_per_hour=20),
)
_BY_KEY: Final = {workload.key: (index, workload) for index, workload in enumerate(WORKLOADS)}

SERVICES: Final[tuple[Service, ...]] = (
    Service("kube-system/ingress-nginx", "shop/frontend", 8080, 420, 24_000, 120),
    Service("shop/frontend", "shop/api", 8080, 360, 6_000, 80),
    Service("shop/api", "shop/catalog", 8080, 200, 18_000, 40),
    Service("shop/api", "shop/search", 8080, 120, 9_000, 60),
    Service("shop/api", "shop/cart", 8080, 130, 3_000, 25),
    Service("shop/api", "shop/checkout", 8080, 50, 4_000, 150),
    Service("shop/api", "data/redis", 6379, 160, 1_200, 3),
    Service("shop/cart", "shop/catalog", 8080, 70, 2_500, 30),
    Service("shop/checkout", "shop/cart", 8080, 40, 2_000, 20),
    Service("shop/checkout", "data/postgres", 5432, 40, 6_000, 15),
    Service("shop/checkout", "data/kafka", 9092, 40, 2_500, 10),
    Service("shop/catalog", "data/postgres", 5432, 120, 40_000, 20),
    Service("shop/catalog", "data/redis", 6379, 70, 1_500, 3),
    # The search indexer consumes all day long, not with the shoppers.
    Service("shop/search", "data/kafka", 9092, 24, 50_000, 900, diurnal=False),
    *(Service(w.key, DNS, 53, w.dns_per_hour, 180, 2, protocol="udp") for w in WORKLOADS if w.key != DNS),
)

CHURN: Final[tuple[Churn, ...]] = (
    Churn("shop/search", (0,), 0.5, version="1.5.0"),  # a rolling update
    Churn("shop/api", (1,), 0.3),  # one replica rescheduled onto another node
)
_CHURN_BY_KEY: Final = {churn.workload: churn for churn in CHURN}


def churn_window(churn: Churn, steady_hours: int) -> int:
    """Index of the window in which `churn` happens (old and new pods both run during it)."""
    return max(1, int(churn.at_fraction * steady_hours))


def pods(key: str, index: int, steady_hours: int) -> tuple[Endpoint, ...]:
    """Endpoints of node `key` (a workload key or a bare IP) during window `index`."""
    if "/" not in key:
        return (Endpoint(key),)
    position, workload = _BY_KEY[key]
    churn = _CHURN_BY_KEY.get(key)
    at = churn_window(churn, steady_hours) if churn else 0
    versions = (workload.version, churn.version if churn and churn.version else workload.version)
    result: list[Endpoint] = []
    for replica in range(workload.replicas):
        moved = churn is not None and replica in churn.replicas
        generations = (0,) if not moved or index < at else (0, 1) if index == at else (1,)
        result.extend(_pod(position, replica, generation, versions[generation]) for generation in generations)
    return tuple(result)


@lru_cache(maxsize=256)
def _pod(position: int, replica: int, generation: int, version: str) -> Endpoint:
    workload = WORKLOADS[position]
    # Pods spread over three nodes' /24s of the 10.42.0.0/16 pod CIDR; a new generation moves up by 100.
    ip = f"10.42.{(position + replica) % 3}.{10 + 8 * position + replica + 100 * generation}"
    labels = json.dumps(workload.labels(version), sort_keys=True, separators=(",", ":"))
    return Endpoint(ip, workload.name, workload.namespace, labels)


def diurnal(hour_of_day: int) -> float:
    """Relative traffic volume by UTC hour: quietest (0.35) at 03:00, busiest (1.0) at 15:00."""
    return 0.35 + 0.65 * (1 - math.cos(2 * math.pi * (hour_of_day - 3) / 24)) / 2


def flow(
    rng: random.Random, start_ms: int, src: Endpoint, dst: Endpoint, *, port: int, median_bytes: int,
    median_ms: int, protocol: str = "tcp", sigma: float = 0.9, action: str = "accept", packets: int | None = None,
) -> Record:
    """One canonical flow record; bytes and duration are lognormal around their medians."""
    size = max(40, int(median_bytes * rng.lognormvariate(0.0, sigma)))
    duration = int(median_ms * rng.lognormvariate(0.0, 0.8))
    if packets is None:
        packets = 2 if protocol == "udp" else 4 + size // (900 + int(rng.random() * 500))
    return {
        "ts_start": _EPOCH + timedelta(milliseconds=start_ms),
        "ts_end": _EPOCH + timedelta(milliseconds=start_ms + duration),
        "src_ip": src.ip, "src_port": 32768 + int(rng.random() * 28232), "dst_ip": dst.ip, "dst_port": port,
        "protocol": protocol, "bytes": size, "packets": packets, "action": action,
        "src_name": src.name, "dst_name": dst.name, "src_namespace": src.namespace,
        "dst_namespace": dst.namespace, "src_labels": src.labels, "dst_labels": dst.labels,
    }


def steady_flows(rng: random.Random, window_ms: int, index: int, steady_hours: int) -> list[Record]:
    """The ordinary traffic of one hourly window: service calls, DNS lookups and scrapes."""
    factor = diurnal(window_ms // HOUR_MS % 24)
    records: list[Record] = []
    for service in SERVICES:
        noise = rng.lognormvariate(0.0, 0.15)
        count = max(3, round(service.per_hour * (factor if service.diurnal else 1.0) * noise))
        sources, targets = pods(service.src, index, steady_hours), pods(service.dst, index, steady_hours)
        records.extend(
            flow(rng, window_ms + int(rng.random() * HOUR_MS), rng.choice(sources), rng.choice(targets),
                 port=service.port, protocol=service.protocol, median_bytes=service.median_bytes,
                 median_ms=service.median_ms)
            for _ in range(count)
        )
    records.extend(_scrapes(rng, window_ms, index, steady_hours))
    return records


def _scrapes(rng: random.Random, window_ms: int, index: int, steady_hours: int) -> list[Record]:
    """Prometheus pulls :9090 of every pod every 30 s, each target at its own fixed phase."""
    scraper = pods(PROMETHEUS, index, steady_hours)[0]
    records: list[Record] = []
    for position, workload in enumerate(WORKLOADS):
        if workload.key == PROMETHEUS:
            continue
        for number, target in enumerate(pods(workload.key, index, steady_hours)):
            # Phases keep 500 ms clear of the window edges, so jitter never crosses into a neighbour.
            phase = 500 + (position * 7919 + number * 3571) % (SCRAPE_EVERY_MS - 1_000)
            for tick in range(HOUR_MS // SCRAPE_EVERY_MS):
                start = window_ms + phase + tick * SCRAPE_EVERY_MS + int(rng.random() * 301) - 150
                records.append(flow(rng, start, scraper, target, port=SCRAPE_PORT,
                                    median_bytes=9_000, median_ms=40, sigma=0.3))
    return records
