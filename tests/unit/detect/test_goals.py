"""The goals of issue 17 (docs/detection.md, "How the goals are checked"), on the pure engines in the jobs' order:
detect_window → drift analyze deferring to detection → findings_of_drift → group_incidents → rank_incidents
(`chain.run_chain`). The RITA and labeled captures skip, with the reason, when ../shared/data is absent; the
generated estate always runs. Each capture is parsed and run once per module.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from functools import cache

import polars as pl
import pytest

from jobs.demo.estate import INJECTED, Anomaly, generate_estate
from jobs.engines.detect.home import HomeNetworks
from jobs.engines.detect.incidents import Incident, group_incidents
from jobs.engines.detect.ranking import Ranked
from jobs.engines.drift.defer import actor_of
from jobs.engines.flows import parse_file
from jobs.engines.flows.schema import canonical_select
from tests.conftest import SHARED_DATA

from .chain import DAY, ChainRun, day_rankings, run_chain, strip_labels

RITA = SHARED_DATA / "zeek" / "rita-missing-host"
LABELED = SHARED_DATA / "labeled" / "stratosphere-008-zeek-mixed" / "conn.log.labeled"
RITA_SENSOR, RITA_CLIENT, LABELED_PC = "64.225.56.201", "73.54.23.243", "147.32.81.167"
MAX_INCIDENTS_PER_DAY = 50


def need(path: object) -> None:
    if not getattr(path, "exists", lambda: False)():
        pytest.skip(f"{path} is absent: the capture goals read ../shared/data beside the project root")


@cache
def rita() -> tuple[ChainRun, list[list[Ranked]]]:
    canonical = pl.concat([parse_file(gzip.decompress(p.read_bytes())).frame for p in sorted(RITA.glob("*/*.log.gz"))])
    run = run_chain(canonical, HomeNetworks.of(sensors=[RITA_SENSOR]))
    return run, day_rankings(run.findings, run.start, run.end)


def test_rita_every_sensor_day_stays_readable_and_nothing_is_critical() -> None:
    need(RITA)
    run, days = rita()
    assert len(days) == 3
    assert all(len(day) <= MAX_INCIDENTS_PER_DAY for day in days), [len(day) for day in days]
    assert not [r for day in days for r in day if r.incident.severity == "critical"]
    # the deferral is what keeps it so: drift alone would raise thousands of events on this sensor
    assert run.drift_events < 500


def test_rita_beacon_is_in_the_top_ten_every_day_and_its_summary_names_the_regularity() -> None:
    need(RITA)
    _, days = rita()
    for number, day in enumerate(days, start=1):
        [hit] = [r for r in day if r.incident.kind == "beacon"
                 and r.incident.entity == f"{RITA_CLIENT} → {RITA_SENSOR}" and r.incident.service == "80/tcp"]
        assert hit.rank <= 10, (number, hit.rank)
        assert "every " in hit.incident.summary and " ± " in hit.incident.summary
        assert "timestamps" in hit.incident.summary


@cache
def estate() -> tuple[pl.DataFrame, list[Ranked]]:
    records = list(generate_estate(hours=24, end=datetime(2024, 4, 20, tzinfo=UTC)))
    frame = pl.DataFrame(records, infer_schema_length=None)
    canonical = frame.select(canonical_select(frame))
    run = run_chain(canonical, HomeNetworks.of())
    return canonical, day_rankings(run.findings, run.start, run.end)[-1]


def _addresses(canonical: pl.DataFrame, key: str) -> set[str]:
    """The addresses a node key stands for in the flows (its pods, or the key itself)."""
    if "/" not in key:
        return {key}
    namespace, name = key.split("/")
    found = set()
    for side in ("src", "dst"):
        rows = canonical.filter((pl.col(f"{side}_namespace") == namespace) & (pl.col(f"{side}_name") == name))
        found |= set(rows[f"{side}_ip"].to_list())
    return found


def covers(incident: Incident, anomaly: Anomaly, canonical: pl.DataFrame) -> bool:
    """Drift's incidents name node keys (the source, the endpoints reached); detection's name addresses."""
    a = anomaly
    endpoint = a.dst if a.dst_port is None else f"{a.dst}:{a.dst_port}/{a.protocol}"
    if incident.entity in (a.src, actor_of(a.src)) and any(h.startswith(endpoint) for h in incident.hosts):
        return True
    hosts = {h.split(":")[0] for h in incident.hosts} | {incident.latest.target}
    return bool(_addresses(canonical, a.src) & incident.sources and _addresses(canonical, a.dst) & hosts)


def test_estate_every_injected_attack_is_covered_by_the_last_days_top_ten() -> None:
    canonical, last_day = estate()
    top = [r.incident for r in last_day[:10]]
    missing = [a.description for a in INJECTED if not any(covers(i, a, canonical) for i in top)]
    assert not missing, [i.summary for i in top]
    assert len(INJECTED) == 10


@cache
def labeled() -> tuple[ChainRun, set[str]]:
    stripped, labels = strip_labels(LABELED.read_text())
    canonical = parse_file(stripped.encode()).frame
    # A malicious item is the originator Zeek logged for a Malicious line; the parser may have swapped the
    # record (a mid-session line that names the server as originator: flows.zeek_direction).
    lines = [line.split("\t") for line in stripped.splitlines() if line]
    orig = next(line for line in lines if line[0] == "#fields").index("id.orig_h") - 1
    originators = [line[orig] for line in lines if not line[0].startswith("#")]
    malicious = {host for host, label in zip(originators, labels, strict=True) if label == "Malicious"}
    return run_chain(canonical, HomeNetworks.of(sensors=[LABELED_PC])), malicious


# measured 2026-12-05: the scan (1,592 sources), inbound new_external and new_port incidents, all low. Until
# issue 19 A2 a fourth, new_edge from ESET's 91.228.165.0/24, came from mid-session records of the PC's MQTT session
# to 91.228.167.171:8883 that Zeek logged with ESET as originator (labelled Malicious); the parser now swaps those
# (flows.zeek_direction), so they are the PC's outbound flows. Three is the fold's floor as designed, not a
# split: an incident is one kind of finding (docs/detection.md, "Known gaps"), because an analyst's verdict ranks
# "incidents like it" by kind|direction|service|counterpart (ranking.shape_of); folding drift's inbound kinds into
# the scan would let one verdict on a scan move new-port and new-peer incidents too. What must hold on any
# capture: each kind lands once per home network, whatever the sources and days, and nothing is above low.
def test_labeled_inbound_scanning_folds_once_per_kind_and_home_network() -> None:
    need(LABELED)
    run, malicious = labeled()
    scanning = [i for i in group_incidents(run.findings) if i.sources & malicious]
    keys = [(i.kind, i.direction, i.entity) for i in scanning]
    assert len(keys) == len(set(keys)), keys
    assert sorted(i.kind for i in scanning) == ["new_external", "new_port", "scan"]
    assert all(i.severity in ("info", "low") for i in scanning)


def test_labeled_inbound_scanning_is_low_wherever_it_folds() -> None:
    need(LABELED)
    run, malicious = labeled()
    scanning = [i for i in group_incidents(run.findings) if i.sources & malicious]
    assert scanning and all(i.severity in ("info", "low") and i.direction == "inbound" for i in scanning)
    assert len(scanning) <= 4


# measured 2026-12-04: one, the PC's outbound new_external to a new ESET server (91.228.167.25:80), medium: a
# workstation meets new outside peers every hour, and drift rates each new one by itself
def test_labeled_after_the_first_day_no_benign_incident_is_above_low() -> None:
    need(LABELED)
    run, malicious = labeled()
    later = [i for i in group_incidents(run.findings) if i.first_reported >= run.start + DAY
             and not i.sources & malicious and i.severity not in ("info", "low")]
    assert later == []


# measured 2026-12-05: the workstation's new outside peers are one incident of 160 findings from hour 3 to hour 27,
# high in its first hour (everything is new on the learning day); it settles to medium (40.7) as it goes on with
# routine findings (jobs.engines.detect.incidents: its risk halves every 6 h down to the newest finding's)
def test_labeled_the_workstations_new_peers_settle_below_high_as_they_go_on() -> None:
    need(LABELED)
    run, _ = labeled()
    going_on = [i for i in group_incidents(run.findings)
                if i.kind == "new_external" and i.direction == "outbound" and i.last_seen - i.first_seen > DAY / 2]
    assert going_on and all(i.severity not in ("high", "critical") for i in going_on)
    assert max(i.events for i in going_on) > 100


def test_labeled_detection_alone_raises_nothing_benign_above_low_after_the_first_day() -> None:
    need(LABELED)
    run, malicious = labeled()
    later = [i for i in group_incidents(run.detections) if i.first_reported >= run.start + DAY
             and not i.sources & malicious and i.severity not in ("info", "low")]
    assert later == []
