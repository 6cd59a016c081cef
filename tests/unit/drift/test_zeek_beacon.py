"""The beacon detector on real Zeek data: RITA's `missing_host` capture (3 days, hourly files).

The publisher states that an HTTP client beacons from 73.54.23.243 to the sensor 64.225.56.201
every 200-350 s; everything else is internet background (scanners, DNS, NTP).
"""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.engines.drift import analyze, build_baseline, measure_starts
from jobs.engines.drift.records import Snapshot
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

from .builders import NOW

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "zeek" / "rita-missing-host"
BEACON = ("73.54.23.243", "64.225.56.201")
FIELDS = ("ts", "id.orig_h", "id.resp_h", "id.resp_p", "proto", "orig_bytes", "resp_bytes", "conn_state")



@pytest.fixture(autouse=True)
def _shared_data_present() -> None:
    # The real files are the point of this test: their absence is a failure, never a skip.
    assert DATA.is_dir(), f"missing {DATA}: the tests read ../shared/data beside the project root"


def hourly_files() -> list[Path]:
    return sorted(DATA.glob("*/conn.*.log.gz"))


def read_rows(path: Path) -> list[dict[str, str]]:
    """The columns we need of a Zeek TSV conn.log (a test-only reader, not the product parser)."""
    rows: list[dict[str, str]] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        names: list[str] = []
        for line in lines:
            if line.startswith("#fields"):
                names = line.rstrip("\n").split("\t")[1:]
            elif not line.startswith("#"):
                row = dict(zip(names, line.rstrip("\n").split("\t"), strict=True))
                rows.append({k: row[k] for k in FIELDS})
    return rows


def pair_starts(rows: list[dict[str, str]]) -> dict[tuple[str, str], list[float]]:
    starts: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        starts[(row["id.orig_h"], row["id.resp_h"])].append(float(row["ts"]))
    return starts


def to_snapshot(rows: list[dict[str, str]], start: datetime) -> Snapshot:
    grouped: dict[tuple[str, str, int, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        grouped[(row["id.orig_h"], row["id.resp_h"], int(row["id.resp_p"]), row["proto"])].append(row)
    edges = tuple(_edge(key, group) for key, group in sorted(grouped.items()))
    keys = sorted({e.src for e in edges} | {e.dst for e in edges})
    nodes = tuple(NodeRecord(k, k, "external") for k in keys)
    return Snapshot(start, start + timedelta(hours=1), nodes, edges)


def _edge(key: tuple[str, str, int, str], rows: list[dict[str, str]]) -> EdgeRecord:
    starts = sorted(float(r["ts"]) for r in rows)
    volume = sum(int(r[c]) for r in rows for c in ("orig_bytes", "resp_bytes") if r[c].isdigit())
    rejected = sum(r["conn_state"] in ("REJ", "S0") for r in rows)
    first, last = (datetime.fromtimestamp(t, tz=UTC) for t in (starts[0], starts[-1]))
    return EdgeRecord(*key, volume, len(rows), len(rows), rejected, first, last, tuple(starts))


def test_beacon_pair_is_periodic_in_every_hour_and_one_shot_pairs_never() -> None:
    files = hourly_files()
    assert len(files) == 72
    for path in files:
        starts = pair_starts(read_rows(path))
        beacon = measure_starts(starts[BEACON])
        assert beacon.periodic, path.name
        assert 10 <= beacon.connections <= 18 and 200 <= beacon.median_interval_s <= 350
        assert not any(measure_starts(s).periodic for s in starts.values() if len(s) == 1)


def test_engine_reports_the_beacon_every_hour_with_a_rolling_baseline() -> None:
    hours = [datetime(2024, 4, 19, hour, tzinfo=UTC) for hour in range(8)]
    snapshots = [to_snapshot(read_rows(p), h) for p, h in zip(hourly_files()[:8], hours, strict=True)]
    for index in range(2, len(snapshots)):
        past = snapshots[:index]
        events = analyze(snapshots[index], past[-1], build_baseline(past), now=NOW)
        [beacon] = [e for e in events if e.kind == "beacon" and (e.src, e.dst) == BEACON]
        assert beacon.dst_port == 80 and beacon.severity in ("medium", "high", "critical")
        assert re.search(r"1\d connections in this window, about every 4m", beacon.explanation)
