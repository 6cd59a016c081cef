"""Drift defers to detection (docs/detection.md decision 5): one test per rule, and the home networks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.drift import DriftEventRecord, analyze, build_baseline
from jobs.engines.drift.defer import actor_of
from jobs.engines.drift.nodes import guess_external
from jobs.engines.drift.records import Snapshot
from jobs.engines.snapshot.types import EdgeRecord

from .builders import NOW, edge, nodes_of, snapshot, window

SENSOR, CLIENT, SCANNER, FRIEND = "64.225.56.201", "73.54.23.243", "203.0.113.45", "198.51.100.7"
OUTSIDE = (SENSOR, CLIENT, SCANNER, FRIEND, "45.77.23.9")
HOME = HomeNetworks.of(sensors=[SENSOR])
APP = "shop/api"
STEADY = [edge(CLIENT, SENSOR, 22), edge(APP, SENSOR, 443), edge(SENSOR, "45.77.23.9", 123, "udp")]


def history(windows: int = 4, extra: list[EdgeRecord] | None = None) -> list[Snapshot]:
    edges = [*STEADY, *(extra or [])]
    return [snapshot(i, nodes_of(edges, external=OUTSIDE), edges) for i in range(windows)]


def run(past: list[Snapshot], edges: list[EdgeRecord], **keywords: object) -> list[DriftEventRecord]:
    current = snapshot(len(past), nodes_of(edges, external=OUTSIDE), edges)
    return analyze(current, past[-1], build_baseline(past), now=NOW, **keywords)  # type: ignore[arg-type]


def kinds(events: list[DriftEventRecord]) -> set[tuple[str, str, str, int | None]]:
    return {(e.kind, e.src, e.dst, e.dst_port) for e in events}


def test_a_home_address_is_never_external_even_a_public_sensor() -> None:
    assert guess_external(SENSOR) and not guess_external(SENSOR, HOME)
    assert guess_external(CLIENT, HOME) and not guess_external("10.0.0.5", HOME)
    # multicast and link-local name no peer; a workload name is never an address
    assert not guess_external("ff02::2", HOME) and not guess_external("shop/api", HOME)
    # a home workload's first call to the sensor: without the home networks a new external peer, with them
    # a new edge between two of ours
    quiet = [edge(APP, "shop/db", 5432)]
    past = [snapshot(i, nodes_of(quiet), quiet) for i in range(3)]
    edges = [*quiet, edge(APP, SENSOR, 443)]
    current = snapshot(3, nodes_of(edges, external=OUTSIDE), edges)
    [plain] = analyze(current, past[-1], build_baseline(past), now=NOW)
    homed = analyze(current, past[-1], build_baseline(past), now=NOW, home=HOME)
    assert (plain.kind, plain.dst) == ("new_external", SENSOR)
    assert kinds(homed) == {("new_edge", APP, SENSOR, 443), ("new_node", SENSOR, SENSOR, None)}


def test_an_actor_that_scanned_within_a_day_raises_no_new_external() -> None:
    probe = edge(SCANNER, SENSOR, 8080)
    assert ("new_external", SCANNER, SENSOR, 8080) in kinds(run(history(), [*STEADY, probe], home=HOME))
    now = window(4).timestamp()
    excluded = {"203.0.113.0/24": now + 3600}  # the /24, as detection names an outside actor
    assert run(history(), [*STEADY, probe], home=HOME, excluded=excluded) == []
    # an exclusion that ran out before this window no longer holds
    expired = {"203.0.113.0/24": now - 1}
    assert kinds(run(history(), [*STEADY, probe], home=HOME, excluded=expired)) == {
        ("new_external", SCANNER, SENSOR, 8080)}


def test_an_excluded_actor_raises_no_new_port_or_spike_but_a_home_source_still_does() -> None:
    past = history(8, [edge(SCANNER, SENSOR, 22, nbytes=1000, flows=2), edge(APP, "shop/db", 5432, nbytes=1000)])
    now = window(8).timestamp()
    noisy = [*STEADY, edge(SCANNER, SENSOR, 22, nbytes=9_000_000, flows=400), edge(SCANNER, SENSOR, 23),
             edge(APP, "shop/db", 5432, nbytes=9_000_000), edge(APP, "shop/db", 6432)]
    plain = kinds(run(past, noisy, home=HOME))
    assert {("traffic_spike", SCANNER, SENSOR, 22), ("new_port", SCANNER, SENSOR, 23)} <= plain
    deferred = kinds(run(past, noisy, home=HOME, excluded={"203.0.113.0/24": now + 60}))
    assert deferred == {("traffic_spike", APP, "shop/db", 5432), ("new_port", APP, "shop/db", 6432)}


def test_exposed_services_raise_nothing_for_outside_sources() -> None:
    web = edge(FRIEND, SENSOR, 443, nbytes=90_000)
    admin = edge(FRIEND, SENSOR, 8443, nbytes=1_000)
    exposed = {(SENSOR, 443, "tcp")}
    # the pair's biggest edge goes to the exposed service; its other edge still speaks for the pair
    [event] = run(history(), [*STEADY, web, admin], home=HOME, exposed=exposed)
    assert (event.kind, event.dst_port) == ("new_external", 8443)
    assert run(history(), [*STEADY, web], home=HOME, exposed=exposed) == []
    # a home source reaching the same service is drift's to judge
    inside = edge("shop/api", SENSOR, 8443)
    assert kinds(run(history(), [*STEADY, inside], home=HOME, exposed={(SENSOR, 8443, "tcp")})) == {
        ("new_port", "shop/api", SENSOR, 8443)}


def test_an_edge_nobody_answered_raises_nothing_for_outside_sources() -> None:
    knock = replace(edge(SCANNER, SENSOR, 3389, flows=3), unanswered=3)
    half = replace(edge(FRIEND, SENSOR, 3389, flows=3), unanswered=2)
    events = kinds(run(history(), [*STEADY, knock, half], home=HOME))
    assert events == {("new_external", FRIEND, SENSOR, 3389)}
    # a home host whose connections go unanswered may be broken or blocked: drift still says so
    mine = replace(edge(APP, SENSOR, 8443, flows=3), unanswered=3)
    assert kinds(run(history(), [*STEADY, mine], home=HOME)) == {("new_port", APP, SENSOR, 8443)}


def test_removed_edges_of_outside_sources_are_dropped() -> None:
    past = history(4, [edge(FRIEND, SENSOR, 80)])
    outside_gone = [edge(APP, SENSOR, 443), edge(SENSOR, "45.77.23.9", 123, "udp")]
    assert run(past, outside_gone, home=HOME) == []
    # the home paths that stop are still reported: the sensor's own only once it is known as home
    home_gone = [edge(CLIENT, SENSOR, 22), edge(FRIEND, SENSOR, 80)]
    assert kinds(run(past, home_gone, home=HOME)) == {("removed_edge", APP, SENSOR, 443),
                                                      ("removed_edge", SENSOR, "45.77.23.9", 123)}
    assert kinds(run(past, home_gone)) == {("removed_edge", APP, SENSOR, 443)}


@pytest.mark.parametrize("protocol", ["icmp", "ICMP", "icmp6", "ipv6-icmp"])
def test_icmp_edges_raise_nothing_whoever_sends_them(protocol: str) -> None:
    past = history(8, [edge(APP, "shop/db", 0, protocol, nbytes=100, flows=2)])
    pings = [edge(APP, SENSOR, 8, protocol), edge(CLIENT, SENSOR, 0, protocol), edge(SENSOR, FRIEND, 3, protocol),
             edge(APP, "shop/db", 0, protocol, nbytes=9_000_000, flows=900)]
    assert run(past, [*STEADY, *pings], home=HOME) == []
    assert run(past, [*STEADY, *pings]) == []
    # and a stable ICMP edge that stops is no removed path either
    assert run(past, STEADY, home=HOME) == []


def test_actors_are_named_as_detection_names_them() -> None:
    assert actor_of("203.0.113.45") == "203.0.113.0/24"
    assert actor_of("2001:db8::1") == "2001:db8::1" and actor_of("shop/api") == "shop/api"
    assert actor_of("999.1.2.3") == "999.1.2.3"


def test_an_exclusion_holds_up_to_its_until_at_the_window_start() -> None:
    probe = edge(SCANNER, SENSOR, 8080)
    start = window(4).timestamp()
    assert run(history(), [*STEADY, probe], home=HOME, excluded={"203.0.113.0/24": start}) == []
    assert run(history(), [*STEADY, probe], home=HOME, excluded={"203.0.113.0/24": start - 0.5}) != []
    # another /24 is another actor
    assert run(history(), [*STEADY, probe], home=HOME, excluded={"203.0.114.0/24": start + 60}) != []


def test_a_multicast_group_or_link_local_address_is_no_new_node() -> None:
    quiet = [edge(APP, "shop/db", 5432)]
    past = [snapshot(i, nodes_of(quiet), quiet) for i in range(3)]
    edges = [*quiet, edge("10.0.0.8", "234.218.83.227", 5353, "udp"), edge("fe80::1", "ff02::2", 0, "udp"),
             edge(APP, "10.0.0.9", 8080)]
    current = snapshot(3, nodes_of(edges), edges)
    new_nodes = {e.src for e in analyze(current, past[-1], build_baseline(past), now=NOW, home=HOME)
                 if e.kind == "new_node"}
    assert new_nodes == {"10.0.0.8", "10.0.0.9"}
