"""Beacon detection: within one window, across windows, and what must not be a beacon."""

from __future__ import annotations

import random

from jobs.engines.drift import BeaconParams, DriftEventRecord, analyze, build_baseline, measure_starts
from jobs.engines.drift.records import Snapshot
from jobs.engines.snapshot.types import EdgeRecord

from .builders import NOW, edge, nodes_of, periodic_starts, poisson_starts, snapshot

A, B, C, D = "shop/a", "shop/b", "shop/c", "shop/d"
PEER = "45.77.23.9"


def run(windows: list[list[EdgeRecord]], current: list[EdgeRecord]) -> list[DriftEventRecord]:
    past = [snapshot(i, nodes_of(e, external=[PEER]), e) for i, e in enumerate(windows)]
    now_snapshot: Snapshot = snapshot(len(past), nodes_of(current, external=[PEER]), current)
    return analyze(now_snapshot, past[-1], build_baseline(past), now=NOW)


def beacons(events: list[DriftEventRecord]) -> list[DriftEventRecord]:
    return [e for e in events if e.kind == "beacon"]


BASE = [edge(D, C, 80), edge(A, B, 80)]


def test_jittered_200_to_350_s_series_is_periodic() -> None:
    rng = random.Random(11)
    hits = 0
    for _ in range(300):
        count = rng.randint(10, 18)
        starts = [0.0]
        for _ in range(count - 1):
            starts.append(starts[-1] + rng.uniform(200, 350))
        hits += measure_starts(starts).periodic
    assert hits >= 0.98 * 300


def test_random_arrivals_and_single_hits_are_not_periodic() -> None:
    rng = random.Random(5)
    poisson = sum(measure_starts(poisson_starts(rng, 14)).periodic for _ in range(300))
    assert poisson <= 6
    assert not measure_starts([1000.0]).periodic
    assert not measure_starts([]).periodic


def test_bursts_of_simultaneous_starts_count_once() -> None:
    starts = [t + d for t in range(0, 3600, 300) for d in (0.0, 0.2, 0.9)]
    measured = measure_starts(starts)
    assert measured.periodic and measured.connections == 12


def test_external_beacon_within_one_window() -> None:
    starts = periodic_starts(random.Random(1), 300, 40)
    events = run([BASE] * 3, [*BASE, edge(A, PEER, 443, starts=starts)])
    [beacon] = beacons(events)
    assert (beacon.src, beacon.dst, beacon.dst_port) == (A, PEER, 443)
    assert 260 < beacon.evidence["period_s"] < 340
    assert {e.kind for e in events} == {"beacon", "new_external"}


def test_one_shot_scanner_and_random_traffic_are_not_beacons() -> None:
    rng = random.Random(2)
    noisy = edge(A, B, 80, starts=poisson_starts(rng, 14))
    current = [edge(D, C, 80), edge(PEER, A, 22, starts=[1200.0]), noisy]
    assert beacons(run([BASE] * 3, current)) == []


def test_slow_beacon_is_found_across_windows() -> None:
    windows = [[*BASE, edge(A, PEER, 443, starts=[100 + 1200 * k + 15 * (k % 2) for k in range(3)])]
               for _ in range(4)]
    current_starts = [110.0, 1300.0, 2510.0]
    assert not measure_starts(current_starts).periodic
    events = run(windows, [*BASE, edge(A, PEER, 443, starts=current_starts)])
    [beacon] = beacons(events)
    assert 1100 < beacon.evidence["period_s"] < 1300


def test_established_internal_poller_is_quiet_but_external_beacon_is_not() -> None:
    scrape = periodic_starts(random.Random(4), 30, 1)
    call_home = periodic_starts(random.Random(5), 300, 20)
    window = [*BASE, edge(A, B, 9090, starts=scrape), edge(C, PEER, 443, starts=call_home)]
    events = run([window] * 4, window)
    assert [(e.src, e.dst) for e in beacons(events)] == [(C, PEER)]


def test_new_target_of_an_established_scraper_is_not_a_beacon() -> None:
    scrape = periodic_starts(random.Random(6), 30, 1)
    window = [*BASE, edge(A, B, 9090, starts=scrape), edge(A, C, 9090, starts=scrape)]
    events = run([window] * 4, [*window, edge(A, D, 9090, starts=scrape)])
    assert beacons(events) == []
    assert {e.kind for e in events} == {"new_edge"}


def test_slow_port_scan_is_not_a_beacon() -> None:
    scan = [edge(PEER, A, 1000 + k, starts=[5.0 + 400 * k]) for k in range(9)]
    assert beacons(run([BASE] * 3, [*BASE, *scan])) == []


def test_params_reject_nonsense() -> None:
    for bad in ({"min_connections": 2}, {"jitter_tolerance": 1.5}, {"min_period_s": 0},
                {"history_intervals": 4}):
        try:
            BeaconParams(**bad)
        except ValueError:
            continue
        raise AssertionError(f"BeaconParams accepted {bad}")


def test_hourly_pair_present_all_along_is_not_a_new_beacon_when_it_becomes_measurable() -> None:
    # one connection an hour: the series only gets long enough to measure in the 8th window
    rng = random.Random(8)
    hourly = [[600.0 + rng.uniform(-60, 60)] for _ in range(8)]
    windows = [[*BASE, edge(A, B, 443, starts=s), edge(C, PEER, 443, starts=s)] for s in hourly[:7]]
    current = [*BASE, edge(A, B, 443, starts=hourly[7]), edge(C, PEER, 443, starts=hourly[7])]
    events = run(windows, current)
    # the internal pair was there in every window: old behaviour; the external one is always reported
    assert [(e.src, e.dst) for e in beacons(events)] == [(C, PEER)]
    assert 3400 < beacons(events)[0].evidence["period_s"] < 3800
