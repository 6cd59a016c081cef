"""A seeded, synthetic Kubernetes estate's flow records, for the demo tenant when no sample data exists.

The estate (see `jobs/demo/estate_model.py`): namespaces `shop` (frontend, api, cart, checkout,
catalog, search), `data` (postgres, redis, kafka), `monitoring` (prometheus scraping every pod on
:9090 every 30 s) and `kube-system` (kube-dns on 53/udp, ingress-nginx in front of frontend), with
diurnal volume, lognormal flow sizes and a little benign churn (a rolling update of search, one api
replica rescheduled). The last hours carry the attacks listed in `INJECTED`.

The external addresses are documentation ranges (RFC 5737), so no real party is implicated.
Every window is drawn from its own seeded generator: the same seed, `end` and `hours` always
give the same records, and so the same file bytes.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby, islice
from pathlib import Path
from typing import Final

from jobs.demo.estate_model import HOUR_MS, Endpoint, Record, flow, pods, steady_flows
from jobs.engines.flows.schema import CANONICAL_COLUMNS

EXFIL_IP: Final = "203.0.113.50"
BEACON_IP: Final = "198.51.100.23"
SCANNER_IP: Final = "192.0.2.77"
BEACON_PERIOD_S: Final = 300
BEACON_JITTER_S: Final = 10
LATERAL_TARGETS: Final = (
    ("data/postgres", 5432), ("data/kafka", 9092), ("data/redis", 6379),
    ("shop/checkout", 8080), ("shop/search", 8080), ("shop/frontend", 8080),
)
SCAN_PORTS: Final = (
    21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1433, 1521, 2049, 2375,
    2379, 3000, 3306, 3389, 5000, 5432, 5601, 5900, 6379, 6443, 8000, 8080, 8443, 8888, 9000,
    9090, 9200, 10250, 11211, 27017, 50000,
)
MAX_HOURS: Final = 24 * 7


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One injected attack edge. `src`/`dst` are node keys as the snapshot builder names them.

    `dst_port` None means many ports (the scan hits every port of SCAN_PORTS). The anomaly starts
    at the beginning of the window `hours_before_end` hours before `end` and lasts to the end.
    """

    kind: str
    src: str
    dst: str
    dst_port: int | None
    protocol: str
    hours_before_end: int
    description: str


INJECTED: Final[tuple[Anomaly, ...]] = (
    *(Anomaly("lateral_movement", "shop/cart", dst, port, "tcp", 3,
              f"cart suddenly connects to {dst}:{port}, a peer it never talked to")
      for dst, port in LATERAL_TARGETS),
    Anomaly("new_ssh", "shop/catalog", "data/postgres", 22, "tcp", 3,
            "SSH sessions from catalog to postgres, which only ever spoke 5432"),
    Anomaly("exfiltration", "shop/api", EXFIL_IP, 443, "tcp", 2,
            f"api uploads hundreds of MB per hour to {EXFIL_IP}"),
    Anomaly("beacon", "shop/checkout", BEACON_IP, 8443, "tcp", 3,
            f"checkout calls {BEACON_IP}:8443 every {BEACON_PERIOD_S} s ± {BEACON_JITTER_S} s"),
    Anomaly("scan", SCANNER_IP, "shop/frontend", None, "tcp", 1,
            f"{SCANNER_IP} probes frontend on {len(SCAN_PORTS)} ports; every attempt is rejected"),
)
ANOMALY_HOURS: Final = max(anomaly.hours_before_end for anomaly in INJECTED)


@dataclass(frozen=True, slots=True)
class _Shot:
    """What an anomaly generator needs for one window."""

    rng: random.Random
    window_ms: int
    first: bool
    sources: tuple[Endpoint, ...]
    targets: tuple[Endpoint, ...]
    port: int


def generate_estate(*, hours: int = 24, end: datetime, seed: int = 7) -> Iterator[Record]:
    """Canonical flow records of `hours` hourly windows ending at `end` (floored to the hour), in time order.

    `end` must be timezone-aware; `hours` lies in [ANOMALY_HOURS + 1, MAX_HOURS] so at least one
    steady window precedes the attacks. Timestamps are UTC datetimes with millisecond precision.
    """
    first_ms = _first_window_ms(hours, end)
    return _records(seed, first_ms, hours)


def write_estate_jsonl(path: Path, *, hours: int = 24, end: datetime, seed: int = 7) -> int:
    """Write the estate to `path` as gzip'd canonical JSON lines; returns the number of records."""
    return _write_jsonl(path, generate_estate(hours=hours, end=end, seed=seed))


def estate_files(
    folder: Path, *, hours: int = 24, end: datetime, seed: int = 7, hours_per_file: int = 6
) -> list[Path]:
    """Write the estate as one gzip'd JSON lines file per `hours_per_file` hours; returns the paths in time order."""
    if hours_per_file < 1:
        raise ValueError(f"hours_per_file must be at least 1, got {hours_per_file}")
    records = generate_estate(hours=hours, end=end, seed=seed)
    first = _at(_first_window_ms(hours, end))
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for chunk, group in groupby(records, key=lambda r: (r["ts_start"] - first) // timedelta(hours=hours_per_file)):
        path = folder / f"demo-estate-{first + chunk * timedelta(hours=hours_per_file):%Y%m%dT%H%MZ}.jsonl.gz"
        _write_jsonl(path, group)
        paths.append(path)
    return paths


def _first_window_ms(hours: int, end: datetime) -> int:
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    if isinstance(hours, bool) or not ANOMALY_HOURS < hours <= MAX_HOURS:
        raise ValueError(f"hours must lie in [{ANOMALY_HOURS + 1}, {MAX_HOURS}], got {hours!r}")
    end_ms = int(end.timestamp()) // 3600 * HOUR_MS
    return end_ms - hours * HOUR_MS


def _at(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def _records(seed: int, first_ms: int, hours: int) -> Iterator[Record]:
    steady_hours = hours - ANOMALY_HOURS
    for index in range(hours):
        window_ms = first_ms + index * HOUR_MS
        records = steady_flows(random.Random(f"demo-estate/{seed}/{window_ms}"), window_ms, index, steady_hours)
        for position, anomaly in enumerate(INJECTED):
            start = hours - anomaly.hours_before_end
            if index < start:
                continue
            # Its own generator per anomaly, so the steady traffic is the same with or without it.
            shot = _Shot(
                rng=random.Random(f"demo-estate/{seed}/{window_ms}/{position}"), window_ms=window_ms,
                first=index == start, sources=pods(anomaly.src, index, steady_hours),
                targets=pods(anomaly.dst, index, steady_hours), port=anomaly.dst_port or 0,
            )
            records.extend(_GENERATORS[anomaly.kind](shot))
        records.sort(key=lambda record: record["ts_start"])
        yield from records


def _lateral(shot: _Shot) -> list[Record]:
    """A burst of short probes in the first window (after a quiet start), then steady misuse."""
    rng = shot.rng
    begin = shot.window_ms + (rng.randint(600_000, 1_500_000) if shot.first else 0)
    count = rng.randint(8, 14) if shot.first else rng.randint(3, 8)
    return [
        flow(rng, rng.randrange(begin, shot.window_ms + HOUR_MS), rng.choice(shot.sources),
             rng.choice(shot.targets), port=shot.port, median_bytes=1_500, median_ms=30)
        for _ in range(count)
    ]


def _ssh(shot: _Shot) -> list[Record]:
    """A few interactive sessions: minutes long, tens to hundreds of KB."""
    rng = shot.rng
    begin = shot.window_ms + (1_200_000 if shot.first else 0)
    return [
        flow(rng, rng.randrange(begin, shot.window_ms + HOUR_MS), rng.choice(shot.sources),
             rng.choice(shot.targets), port=shot.port, median_bytes=150_000, median_ms=300_000)
        for _ in range(rng.randint(2, 4))
    ]


def _exfiltration(shot: _Shot) -> list[Record]:
    """Three uploads of about 100 MB each per window."""
    rng = shot.rng
    return [
        flow(rng, shot.window_ms + rng.randrange(HOUR_MS - 600_000), rng.choice(shot.sources),
             shot.targets[0], port=shot.port, median_bytes=100_000_000, median_ms=240_000, sigma=0.25)
        for _ in range(3)
    ]


def _beacon(shot: _Shot) -> list[Record]:
    """Twelve check-ins per window, 300 s apart with ±10 s jitter."""
    rng, jitter_ms = shot.rng, BEACON_JITTER_S * 1000
    return [
        flow(rng, shot.window_ms + 137_000 + beat * BEACON_PERIOD_S * 1000 + rng.randint(-jitter_ms, jitter_ms),
             rng.choice(shot.sources), shot.targets[0], port=shot.port, median_bytes=2_400, median_ms=400,
             sigma=0.2)
        for beat in range(HOUR_MS // (BEACON_PERIOD_S * 1000))
    ]


def _scan(shot: _Shot) -> list[Record]:
    """One or two SYNs per port against the frontend pods, each refused."""
    rng, clock = shot.rng, shot.window_ms + 1_380_000
    records: list[Record] = []
    for port in SCAN_PORTS:
        for _ in range(rng.randint(1, 2)):
            clock += rng.randint(200, 2_500)
            records.append(flow(rng, clock, shot.sources[0], rng.choice(shot.targets), port=port,
                                median_bytes=60, median_ms=0, sigma=0.0, action="reject", packets=1))
    return records


_GENERATORS: Final[dict[str, Callable[[_Shot], list[Record]]]] = {
    "lateral_movement": _lateral, "new_ssh": _ssh, "exfiltration": _exfiltration,
    "beacon": _beacon, "scan": _scan,
}


def _write_jsonl(path: Path, records: Iterable[Record]) -> int:
    count = 0
    # No file name and a zero mtime in the gzip header, so equal records give equal bytes.
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as out:
        iterator = iter(records)
        # One compressor call per batch of lines, not per line.
        while batch := [_json_line(record) for record in islice(iterator, 4096)]:
            out.write(b"".join(batch))
            count += len(batch)
    return count


def _json_line(record: Record) -> bytes:
    row = {name: record[name] for name in CANONICAL_COLUMNS if name in record}
    row["ts_start"], row["ts_end"] = _iso(record["ts_start"]), _iso(record["ts_end"])
    return json.dumps(row, separators=(",", ":")).encode() + b"\n"


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")
