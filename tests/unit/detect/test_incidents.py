"""Incidents: findings per entity and kind over time, and the summary an analyst reads."""

from __future__ import annotations

from jobs.engines.detect.campaigns import find_campaigns
from jobs.engines.detect.home import HomeNetworks
from jobs.engines.detect.incidents import IncidentParams, group_incidents, incident_key
from jobs.engines.detect.records import MANY, Finding

from .builders import DAY, HOUR, START, Flow, by_hour, detection
from .test_campaigns import ssh_guesses

PC = "147.32.81.167"
HOME_PC = HomeNetworks.of(sensors=[PC])


def knocks(hours: int, per_hour: int = 40) -> list[Flow]:
    """Unanswered SYNs from new addresses every hour on four ports of the PC."""
    ports = [23, 445, 22, 3389]
    return [Flow(h * HOUR + i * 60.0, f"{31 + h}.{i}.0.{i % 200 + 1}", PC, ports[i % 4], bytes=0, duration=None,
                 answered=False) for h in range(hours) for i in range(per_hour)]


def findings_of(flows: list[Flow]) -> list[Finding]:
    return [f for _, window in by_hour(detection(flows, HOME_PC)) for f in find_campaigns(window)]


def beacon_finding_at(hour: float, risk: float = 55.0) -> Finding:
    at = START + hour * HOUR
    return Finding(kind="beacon", direction="outbound", actor="10.0.0.7", target="185.220.101.4", service="443/tcp",
                   first_ts=at - HOUR, last_ts=at, attempts=12, answered=12, risk=risk, explanation="beacon text")


def test_hourly_inbound_scans_of_one_host_fold_into_one_incident_with_one_summary() -> None:
    found = findings_of(knocks(hours=3))
    assert len(found) == 3
    [incident] = group_incidents(found)
    assert (incident.kind, incident.direction, incident.entity, incident.severity) == ("scan", "inbound",
                                                                                       f"{PC}/32", "low")
    assert incident.events == 3 and incident.attempts == 120 and len(incident.sources) == 120
    assert incident.summary.startswith(f"120 unanswered SYNs from 120 internet addresses to tcp/23,445,22,3389 "
                                       f"of {PC} over 2 h 39 m: inbound scanning, nothing answered")


def test_noise_closes_after_a_day_but_a_beacon_stays_one_incident_while_it_lasts() -> None:
    scans = findings_of(knocks(hours=30, per_hour=2))
    beacons = [beacon_finding_at(h) for h in range(1, 51)]
    incidents = group_incidents(scans + beacons)
    assert [i.kind for i in incidents].count("scan") == 2
    [beacon] = [i for i in incidents if i.kind == "beacon"]
    assert beacon.events == 50 and beacon.last_seen - beacon.first_seen == 50 * HOUR
    assert beacon.summary == "beacon text; regular for 50 h"


def test_a_quiet_gap_longer_than_a_day_starts_a_new_incident() -> None:
    beacons = [beacon_finding_at(1), beacon_finding_at(2), beacon_finding_at(2 + DAY / HOUR + 2)]
    assert [i.events for i in group_incidents(beacons)] == [2, 1]
    assert len(group_incidents(beacons, IncidentParams(quiet_gap_s=3 * DAY))) == 1


def test_inbound_campaigns_key_on_the_home_network_home_campaigns_on_the_host() -> None:
    inbound = findings_of(ssh_guesses("170.64.237.193", PC, 20) + ssh_guesses("89.32.41.104", PC, 20))
    lateral = findings_of(ssh_guesses("10.0.0.5", "10.0.0.20", 20) + ssh_guesses("10.0.0.6", "10.0.0.20", 20))
    assert {incident_key(f) for f in inbound} == {(f"{PC}/32", "ssh")}
    assert {incident_key(f) for f in lateral} == {("10.0.0.5", "ssh"), ("10.0.0.6", "ssh")}
    incidents = group_incidents(inbound + lateral)
    assert sorted((i.direction, i.severity) for i in incidents) == [("inbound", "low"), ("internal", "high"),
                                                                     ("internal", "high")]
    [outside] = [i for i in incidents if i.direction == "inbound"]
    assert outside.summary.startswith(f"40 short ssh connections from 2 internet addresses to {PC} over")


def test_peak_risk_and_the_latest_statistics_make_a_beacon_incident() -> None:
    [incident] = group_incidents([beacon_finding_at(1, 62.0), beacon_finding_at(2, 35.0)])
    assert incident.peak_risk == 62.0 and incident.severity == "high"
    assert incident.attempts == 12 and incident.id.startswith("beacon|outbound|10.0.0.7 → 185.220.101.4|443/tcp@")
    assert incident.entity != MANY


def test_extending_open_incidents_window_by_window_equals_grouping_all_at_once() -> None:
    found = findings_of(knocks(hours=6) + ssh_guesses("170.64.237.193", PC, 60)) + [
        beacon_finding_at(h) for h in range(1, 7)]
    first = [f for f in found if f.last_ts < START + 3 * HOUR]
    rest = [f for f in found if f.last_ts >= START + 3 * HOUR]
    stepwise = group_incidents(rest, open_incidents=group_incidents(first))
    at_once = group_incidents(found)
    assert [(i.key, i.events, i.attempts, i.summary) for i in stepwise] == [
        (i.key, i.events, i.attempts, i.summary) for i in at_once]
    assert len(at_once) == 3


def new_peers_at(hour: float, risk: float) -> Finding:
    """A drift new_external finding of the workstation 10.0.0.7 in the hour ending at `hour`."""
    at = START + hour * HOUR
    return Finding(kind="new_external", direction="outbound", actor="10.0.0.7", target=f"203.0.113.{int(hour)}",
                   service="443/tcp", first_ts=at - HOUR, last_ts=at, attempts=3, answered=3, risk=risk,
                   explanation="new peer", sources=frozenset({"10.0.0.7"}),
                   hosts=frozenset({f"203.0.113.{int(hour)}:443/tcp"}))


def test_an_incident_going_on_with_routine_findings_settles_and_a_stronger_one_raises_it() -> None:
    burst = [new_peers_at(1, 66.0)]  # the learning hour: everything is new
    routine = [new_peers_at(h, 36.0) for h in range(2, 14)]
    [first] = group_incidents(burst)
    assert first.severity == "high"
    [settled] = group_incidents(burst + routine)
    # 66 halves every 6 h of flow time, never below the newest finding's 36: after 12 h it reads as routine
    assert settled.severity == "low" and settled.peak_risk == 36.0
    [midway] = group_incidents(burst + routine[:5])  # 5 h on: 66 × 0.5^(5/6) = 37.04
    assert midway.severity == "low" and 37.0 < midway.peak_risk < 37.1
    [raised] = group_incidents([*burst, *routine, new_peers_at(14, 70.0)])
    assert raised.severity == "high" and raised.peak_risk == 70.0
    # the same incident throughout: its counts add up
    assert raised.events == 14 and len(raised.hosts) == 14


def test_a_beacon_keeps_its_peak_while_it_lasts() -> None:
    [incident] = group_incidents([beacon_finding_at(h, 62.0 if h == 1 else 35.0) for h in range(1, 30)])
    assert incident.peak_risk == 62.0 and incident.severity == "high"
