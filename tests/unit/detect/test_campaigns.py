"""Scans and brute force: folded per campaign, severity by direction."""

from __future__ import annotations

import pytest

from jobs.engines.detect.campaigns import CampaignParams, auth_rows, find_campaigns
from jobs.engines.detect.records import MANY

from .builders import SENSOR, Flow, detection

PORTS = [23, 445, 22, 3389, 1433, 5555, 80, 8080, 2323, 81, 7547, 6379]


def internet_scan(sources: int = 300) -> list[Flow]:
    """`sources` addresses, each knocking once or twice on the sensor's closed ports."""
    return [Flow(i * 7.0 + k, f"{23 + i % 70}.{i // 70}.{i % 7}.{i % 250}", SENSOR, PORTS[(i + k) % len(PORTS)],
                 bytes=0, duration=None, answered=False) for i in range(sources) for k in range(1 + i % 2)]


def test_inbound_scanning_from_hundreds_of_addresses_is_one_low_finding() -> None:
    flows = internet_scan()
    [scan] = find_campaigns(detection(flows))
    assert (scan.kind, scan.direction, scan.actor, scan.target) == ("scan", "inbound", MANY, f"{SENSOR}/32")
    assert scan.attempts == len(flows) and scan.answered == 0
    assert len(scan.sources) == 300 and scan.severity == "low"
    assert scan.facts["ports_by_count"][0] in {f"{p}/tcp" for p in PORTS}


def test_a_heavy_vertical_scanner_is_named_inside_the_inbound_finding() -> None:
    vertical = [Flow(i, "45.155.205.44", SENSOR, 1000 + i, bytes=0, answered=False) for i in range(60)]
    [scan] = find_campaigns(detection(internet_scan(50) + vertical))
    assert scan.facts["scanners"] == ["45.155.205.0/24"]
    assert scan.facts["top_actors"][0] == {"actor": "45.155.205.0/24", "attempts": 60, "ports": 60, "hosts": 1}


def test_a_scanner_answered_by_a_service_nobody_else_reaches_names_that_port() -> None:
    probes = [Flow(i, "45.155.205.44", SENSOR, 1000 + i, bytes=0, answered=False) for i in range(30)]
    probes.append(Flow(31, "45.155.205.44", SENSOR, 5060, bytes=300))
    [scan] = find_campaigns(detection(probes))
    assert scan.answered == 1 and scan.facts["answered_ports"] == ["5060/tcp"]
    assert scan.risk > find_campaigns(detection(probes[:-1]))[0].risk  # first among the inbound digests


def test_a_home_host_sweeping_the_network_is_a_high_internal_scan() -> None:
    sweep = [Flow(i, "10.0.0.5", f"10.0.1.{i}", 445, bytes=0, answered=False) for i in range(25)]
    [scan] = find_campaigns(detection(sweep))
    assert (scan.kind, scan.direction, scan.actor, scan.target) == ("scan", "internal", "10.0.0.5", MANY)
    assert scan.severity == "high" and len(scan.hosts) == 25


def test_a_home_host_probing_ports_of_one_outside_host_is_a_high_outbound_scan() -> None:
    probes = [Flow(i, "10.0.0.5", "198.51.100.7", 20 + i, bytes=0, answered=False) for i in range(15)]
    [scan] = find_campaigns(detection(probes))
    assert (scan.direction, scan.target, scan.severity) == ("outbound", "198.51.100.7", "high")


def test_browsing_many_sites_or_a_few_dead_peers_is_no_scan() -> None:
    browsing = [Flow(i, "10.0.0.5", f"93.184.{i}.1", 443) for i in range(60)]
    dead = [Flow(100 + i, "10.0.0.5", f"203.0.113.{i}", 443, answered=False) for i in range(5)]
    assert find_campaigns(detection(browsing + dead)) == []


def test_icmp_answers_and_multicast_never_make_a_scan() -> None:
    unreachables = [Flow(i, SENSOR, f"77.{i}.0.1", 3, "icmp", src_port=3, answered=False) for i in range(40)]
    mdns = [Flow(i, "10.0.0.5", "224.0.0.251", 5353 + i, "udp", answered=False) for i in range(40)]
    assert find_campaigns(detection(unreachables + mdns)) == []


def ssh_guesses(src: str, dst: str, count: int, first: float = 0.0, size: int = 5_000) -> list[Flow]:
    return [Flow(first + 20.0 * i, src, dst, 22, bytes=size, duration=4.0) for i in range(count)]


def test_many_short_ssh_logins_from_outside_are_one_low_brute_force_per_service() -> None:
    found = find_campaigns(detection(ssh_guesses("170.64.237.193", SENSOR, 30) + ssh_guesses("89.32.41.104", SENSOR, 12)))
    [brute] = [f for f in found if f.kind == "brute_force"]
    assert (brute.direction, brute.service, brute.target, brute.severity) == ("inbound", "ssh", f"{SENSOR}/32", "low")
    assert brute.attempts == 42 and brute.sources == {"170.64.237.193", "89.32.41.104"}
    assert [a["actor"] for a in brute.facts["top_actors"]] == ["170.64.237.0/24", "89.32.41.0/24"]


def test_a_few_logins_or_working_sessions_are_no_brute_force() -> None:
    few = ssh_guesses("170.64.237.193", SENSOR, 5)
    automation = ssh_guesses("10.0.0.9", "10.0.0.20", 40, size=250_000)  # ansible moves data: not guessing
    assert [f for f in find_campaigns(detection(few + automation)) if f.kind == "brute_force"] == []


def test_a_home_host_guessing_passwords_inside_is_high_lateral_movement() -> None:
    [brute] = find_campaigns(detection(ssh_guesses("10.0.0.5", "10.0.0.20", 15)))
    assert (brute.kind, brute.direction, brute.actor, brute.target) == ("brute_force", "internal", "10.0.0.5",
                                                                        "10.0.0.20")
    assert brute.severity == "high"


def test_a_slow_guesser_qualifies_over_the_day_but_each_window_counts_its_own_attempts() -> None:
    earlier = detection(ssh_guesses("170.64.237.193", SENSOR, 6, first=0.0))
    now = detection(ssh_guesses("170.64.237.193", SENSOR, 6, first=7200.0))
    assert find_campaigns(now) == []
    [brute] = find_campaigns(now, history=auth_rows(earlier))
    assert brute.attempts == 6
    stale = detection(ssh_guesses("170.64.237.193", SENSOR, 6, first=-2 * 86_400.0))
    assert find_campaigns(now, history=auth_rows(stale)) == []


@pytest.mark.parametrize("bad", [{"scan_min_ports": 1}, {"scan_max_answered_share": 1.0},
                                 {"brute_min_attempts": 0}, {"long_session_s": 0}, {"session_bytes_factor": 0.5}])
def test_nonsense_parameters_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CampaignParams(**bad)  # type: ignore[arg-type]


def test_a_database_client_whose_connections_differ_in_size_is_no_brute_force() -> None:
    sizes = [900, 4_000, 12_000, 2_500, 30_000, 7_000, 1_500, 18_000, 600, 9_000, 25_000, 3_300]
    app = [Flow(60.0 * i, "10.0.0.9", "10.0.0.30", 5432, bytes=size, duration=0.3) for i, size in enumerate(sizes)]
    guesses = [Flow(60.0 * i, "10.0.0.9", "10.0.0.30", 5432, bytes=2_000 + 10 * i, duration=0.3) for i in range(12)]
    assert find_campaigns(detection(app)) == []
    [brute] = find_campaigns(detection(guesses))
    assert (brute.service, brute.direction, brute.severity) == ("postgresql", "internal", "high")
