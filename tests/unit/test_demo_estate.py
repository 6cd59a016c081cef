"""The synthetic demo estate: reproducible, parseable, bounded, steady, and carrying each injected attack."""

from __future__ import annotations

import ipaddress
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from jobs.demo.estate import (
    BEACON_IP,
    INJECTED,
    SCAN_PORTS,
    SCANNER_IP,
    Anomaly,
    estate_files,
    generate_estate,
    write_estate_jsonl,
)
from jobs.engines.flows.parse import parse_file
from jobs.engines.flows.result import ParseResult
from jobs.engines.flows.schema import CANONICAL_SCHEMA
from jobs.engines.snapshot.builder import build_snapshots

END = datetime(2025, 3, 14, 12, tzinfo=UTC)
HOURS = 24
POD_CIDR = ipaddress.ip_network("10.42.0.0/16")
Record = dict[str, Any]


def node(record: Record, side: str) -> str:
    """The snapshot builder's node key for one side of a record."""
    name, namespace = record[f"{side}_name"], record[f"{side}_namespace"]
    return f"{namespace}/{name}" if name and namespace else str(record[f"{side}_ip"])


def matches(record: Record, anomaly: Anomaly) -> bool:
    return (
        node(record, "src") == anomaly.src and node(record, "dst") == anomaly.dst
        and record["protocol"] == anomaly.protocol
        and (anomaly.dst_port is None or record["dst_port"] == anomaly.dst_port)
    )


def window_index(ts: datetime) -> int:
    return (ts - (END - timedelta(hours=HOURS))) // timedelta(hours=1)


@pytest.fixture(scope="module")
def estate() -> list[Record]:
    return list(generate_estate(end=END))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("estate") / "estate.jsonl.gz"
    return path, write_estate_jsonl(path, end=END)


@pytest.fixture(scope="module")
def parsed(written: tuple[Path, int]) -> ParseResult:
    return parse_file(written[0], "jsonl")


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("a.jsonl.gz", "b.jsonl.gz", "c.jsonl.gz")]
    for path, seed in zip(paths, (7, 7, 8), strict=True):
        write_estate_jsonl(path, hours=6, end=END, seed=seed)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_file_parses_with_no_rejects_and_round_trips(
    written: tuple[Path, int], parsed: ParseResult, estate: list[Record]
) -> None:
    _, count = written
    assert (parsed.records, parsed.accepted, parsed.rejected, parsed.skipped) == (count, count, 0, 0)
    assert parsed.frame.equals(pl.DataFrame(estate, schema=CANONICAL_SCHEMA))


def test_covers_the_hours_ending_at_end(estate: list[Record]) -> None:
    starts = [record["ts_start"] for record in estate]
    assert starts == sorted(starts)
    assert min(starts) >= END - timedelta(hours=HOURS) and max(starts) < END
    assert {window_index(ts) for ts in starts} == set(range(HOURS))
    assert all(record["ts_end"] >= record["ts_start"] for record in estate)


def test_end_is_floored_to_the_hour_and_bad_input_refused() -> None:
    unaligned = list(generate_estate(hours=4, end=END + timedelta(minutes=34, seconds=5)))
    assert unaligned == list(generate_estate(hours=4, end=END))
    with pytest.raises(ValueError, match="timezone"):
        generate_estate(end=END.replace(tzinfo=None))
    with pytest.raises(ValueError, match="hours"):
        generate_estate(hours=3, end=END)
    with pytest.raises(ValueError, match="hours_per_file"):
        estate_files(Path("unused"), end=END, hours_per_file=0)


def test_volume_is_bounded_and_follows_the_day(estate: list[Record]) -> None:
    per_window = Counter(window_index(record["ts_start"]) for record in estate)
    assert 24 * 2_000 < len(estate) < 100_000
    assert all(2_000 <= count <= 5_000 for count in per_window.values())
    by_hour = {(END - timedelta(hours=HOURS - index)).hour: count for index, count in per_window.items()}
    assert by_hour[15] > 1.2 * by_hour[3]  # afternoon peak, night trough
    sizes = sorted(record["bytes"] for record in estate if record["dst_port"] == 5432)
    assert sizes[len(sizes) // 2] * 5 < sizes[-len(sizes) // 100]  # heavy-tailed flow sizes


@pytest.mark.parametrize("anomaly", INJECTED, ids=lambda a: f"{a.kind}:{a.dst}:{a.dst_port}")
def test_injected_anomaly_is_present_only_from_its_start(estate: list[Record], anomaly: Anomaly) -> None:
    start = END - timedelta(hours=anomaly.hours_before_end)
    hits = [record for record in estate if matches(record, anomaly)]
    assert hits and all(record["ts_start"] >= start for record in hits)
    assert {window_index(record["ts_start"]) for record in hits} == set(range(HOURS - anomaly.hours_before_end, HOURS))


def test_attack_shapes(estate: list[Record]) -> None:
    by_kind: dict[str, list[Record]] = defaultdict(list)
    for record in estate:
        for anomaly in INJECTED:
            if matches(record, anomaly):
                by_kind[anomaly.kind].append(record)
    exfil: Counter[int] = Counter()
    for record in by_kind["exfiltration"]:
        exfil[window_index(record["ts_start"])] += record["bytes"]
    assert len(exfil) == 2 and all(total >= 200_000_000 for total in exfil.values())  # hundreds of MB an hour
    beats = sorted(r["ts_start"].timestamp() for r in by_kind["beacon"] if r["dst_ip"] == BEACON_IP)
    assert len(beats) == 36 and all(280 <= b - a <= 320 for a, b in pairwise(beats))
    scan = by_kind["scan"]
    assert {r["dst_port"] for r in scan} == set(SCAN_PORTS) and {r["action"] for r in scan} == {"reject"}
    assert {r["src_ip"] for r in estate if r["action"] == "reject"} == {SCANNER_IP}


def test_steady_topology(estate: list[Record]) -> None:
    named = [(r[f"{side}_ip"], r[f"{side}_labels"]) for r in estate for side in ("src", "dst") if r[f"{side}_name"]]
    assert all(ipaddress.ip_address(ip) in POD_CIDR for ip, _ in set(named))
    labels = {node_labels for _, node_labels in set(named)}
    assert all(text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")) for text in labels)
    by_node = {node(r, side): json.loads(r[f"{side}_labels"]) for r in estate for side in ("src", "dst")
               if r[f"{side}_name"]}
    assert by_node["kube-system/kube-dns"]["k8s-app"] == "kube-dns"
    assert by_node["data/postgres"]["tier"] == "db"
    dns = {(r["dst_port"], r["protocol"]) for r in estate if node(r, "dst") == "kube-system/kube-dns"}
    assert dns == {(53, "udp"), (9090, "tcp")}
    scraped = {node(r, "dst") for r in estate if node(r, "src") == "monitoring/prometheus" and r["dst_port"] == 9090}
    assert scraped == set(by_node) - {"monitoring/prometheus"}


def test_benign_churn_changes_pods_not_edges(estate: list[Record]) -> None:
    search = {(r["dst_ip"], json.loads(r["dst_labels"])["version"]) for r in estate if node(r, "dst") == "shop/search"}
    assert {version for _, version in search} == {"1.4.2", "1.5.0"}
    assert len({ip for ip, _ in search}) == 2
    api_ips = {r["src_ip"] for r in estate if node(r, "src") == "shop/api"}
    assert len(api_ips) == 3  # two replicas, one rescheduled


def test_snapshots_are_stable_until_the_attacks(parsed: ParseResult) -> None:
    snapshots = list(build_snapshots(parsed.frame, window_seconds=3600).values())
    assert len(snapshots) == HOURS
    edge_sets = [{edge.key for edge in snap.edges} for snap in snapshots]
    steady = edge_sets[0]
    first_attack = HOURS - max(anomaly.hours_before_end for anomaly in INJECTED)
    assert all(edges == steady for edges in edge_sets[:first_attack])
    for index in range(first_attack, HOURS):
        active = [a for a in INJECTED if index >= HOURS - a.hours_before_end]
        extra = edge_sets[index] - steady
        assert steady <= edge_sets[index]
        assert {(a.src, a.dst, a.dst_port, a.protocol) for a in active if a.dst_port} <= extra
        assert all(any(a.src == src and a.dst == dst for a in active) for src, dst, _, _ in extra)


def test_estate_files_split_into_six_hour_uploads(tmp_path: Path, parsed: ParseResult) -> None:
    paths = estate_files(tmp_path / "uploads", end=END)
    assert [path.name for path in paths] == [
        f"demo-estate-{END - timedelta(hours=h):%Y%m%dT%H%MZ}.jsonl.gz" for h in (24, 18, 12, 6)
    ]
    results = [parse_file(path, "jsonl") for path in paths]
    assert all(result.rejected == 0 for result in results)
    assert pl.concat([result.frame for result in results]).equals(parsed.frame)
