"""Beacons over a rolling history: what qualifies, what never does, and how it is explained."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from jobs.engines.detect.beacon_findings import beacon_finding, beacon_risk
from jobs.engines.detect.beacons import Beacon, BeaconParams, extend_history, history_rows, score_beacons
from jobs.engines.detect.regularity import persistence, statistical_score

from .builders import DAY, HOUR, SENSOR, START, Flow, detection, periodic, poisson

HOST, C2 = "10.0.0.7", "185.220.101.4"


def beacons_of(flows: list[Flow], *, hours: float = 24.0, exclude: tuple[str, ...] = (),
               params: BeaconParams | None = None) -> list[Beacon]:
    frame = detection(flows)
    end = START + hours * HOUR
    history = extend_history(None, frame, now=end, params=params)
    return score_beacons(history, start=START, end=end, exclude=exclude, params=params)


def test_a_jittered_outbound_timer_over_a_day_is_a_beacon_with_its_statistics_named() -> None:
    [beacon] = beacons_of(periodic(HOST, C2, period=275, jitter=75, hours=24, orig_bytes=80))
    assert (beacon.src, beacon.dst, beacon.dst_port, beacon.direction) == (HOST, C2, 443, "outbound")
    assert beacon.score >= 0.85 and beacon.hours_seen == 24 and beacon.size_mode == 80
    text = beacon_finding(beacon).explanation
    assert text.startswith(f"{HOST} → {C2}:443/tcp every 4 m 3") and "± 1" in text
    assert "24/24 hours" in text and "same 80 B each time" in text and "timestamps 0.9" in text
    assert beacon_finding(beacon).severity in ("medium", "high")


def test_random_arrivals_of_the_same_rate_are_almost_never_beacons() -> None:
    hits = sum(bool(beacons_of(poisson(HOST, C2, mean=275, hours=24, seed=seed, orig_bytes=80))) for seed in range(40))
    assert hits == 0


def test_rita_would_score_a_busy_constant_size_client_high_the_gate_does_not() -> None:
    flows = poisson(HOST, C2, mean=120, hours=24, seed=4, orig_bytes=517)
    ts = sorted(START + f.at for f in flows)
    frame = pl.DataFrame({"k": [0] * len(ts), "ts": ts, "iv": [None, *np.diff(ts)]})
    timing = frame.group_by("k").agg(statistical_score(pl.col("iv").drop_nulls(), default_mad=1.0).alias("t"))["t"][0]
    held = persistence(frame, ["k"], start=START, end=START + DAY).row(0, named=True)
    rita_mean = (timing + 1.0 + held["histogram"] + held["duration"]) / 4  # sizes all 517 B: size score 1
    assert rita_mean > 0.75  # RITA's flat mean: the other three scores carry it
    assert beacons_of(flows) == []


def test_an_outbound_beacon_nobody_answers_is_still_a_beacon() -> None:
    flows = periodic(HOST, C2, period=300, jitter=30, hours=24, bytes=0, orig_bytes=0, answered=False, duration=None)
    [beacon] = beacons_of(flows)
    assert beacon.size_score is None and beacon.answered_share == 0.0
    assert "none answered" in beacon_finding(beacon).explanation and "no payload" in beacon_finding(beacon).explanation


def test_inbound_regularity_counts_only_when_answered_and_lasting_half_a_day() -> None:
    visitor = "73.54.23.243"
    lasting = periodic(visitor, SENSOR, period=272, jitter=75, hours=20, port=80, orig_bytes=80)
    brief = periodic(visitor, SENSOR, period=272, jitter=75, hours=6, port=8080, orig_bytes=80)
    closed = periodic(visitor, SENSOR, period=272, jitter=75, hours=20, port=3306, answered=False, bytes=0,
                      orig_bytes=0)
    [beacon] = beacons_of(lasting + brief + closed)
    assert (beacon.dst_port, beacon.direction) == (80, "inbound")
    assert beacon_risk(beacon) < 50  # inbound stays below an outbound beacon of the same shape


def test_scanners_multicast_and_icmp_answers_never_qualify() -> None:
    timer = periodic(HOST, C2, period=300, jitter=20, hours=24)
    mdns = periodic(HOST, "224.0.0.251", period=300, jitter=20, hours=24, port=5353, protocol="udp")
    unreachable = periodic(SENSOR, "203.0.113.9", period=300, jitter=20, hours=24, port=3, protocol="icmp",
                           src_port=3)
    assert [b.dst for b in beacons_of(timer + mdns + unreachable)] == [C2]
    assert history_rows(detection(mdns + unreachable)).height == 0
    assert beacons_of(timer, exclude=(HOST,)) == []
    other = periodic(HOST, "198.51.100.3", period=600, jitter=20, hours=24, seed=2)
    assert [b.dst for b in beacons_of(timer + other, exclude=(f"{HOST}→{C2}",))] == ["198.51.100.3"]


def test_a_strobe_is_not_a_beacon() -> None:
    flood = periodic(HOST, C2, period=0.5, jitter=0.01, hours=2, duration=0.1)
    assert beacons_of(flood, hours=2, params=BeaconParams(burst_merge_s=0.0)) == []


def test_several_sockets_at_each_beat_count_as_one_check_in() -> None:
    beats = periodic(HOST, C2, period=600, jitter=30, hours=24)
    doubled = beats + [Flow(f.at + 0.3, f.src, f.dst) for f in beats]
    [beacon] = beacons_of(doubled)
    assert beacon.beats == len(beats) and beacon.connections == 2 * len(beats)


def test_time_and_name_polling_is_capped_low() -> None:
    [ntp] = beacons_of(periodic(HOST, "91.189.91.157", period=1024, jitter=1, hours=24, port=123, protocol="udp",
                                orig_bytes=48))
    assert ntp.infrastructure and beacon_finding(ntp).severity == "low"
    assert "periodic by design" in beacon_finding(ntp).explanation


def test_the_history_keeps_one_day_and_appends_each_window() -> None:
    first = detection(periodic(HOST, C2, period=600, jitter=0, hours=2))
    later = detection(periodic(HOST, C2, period=600, jitter=0, hours=2, first=DAY))
    history = extend_history(extend_history(None, first, now=START + 2 * HOUR), later, now=START + DAY + 2 * HOUR)
    assert history.height == later.height
    assert history["ts"].min() >= START + DAY
    assert extend_history(None, first, now=START + 2 * HOUR).schema == pl.Schema(history.schema)


@pytest.mark.parametrize("bad", [{"history_s": 60}, {"min_connections": 2}, {"min_ts_score": 1.5},
                                 {"inbound_min_answered": 2.0}])
def test_nonsense_parameters_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BeaconParams(**bad)  # type: ignore[arg-type]


def test_an_internal_scraper_polling_many_targets_on_one_schedule_is_no_beacon_but_its_lone_c2_is() -> None:
    scraper = [f for i in range(4) for f in periodic("10.0.0.50", f"10.0.1.{i}", period=30, jitter=2, hours=24,
                                                       port=9100, seed=i)]
    lateral = periodic("10.0.0.50", "10.0.9.9", period=600, jitter=60, hours=24, port=445, seed=9)
    outbound = [f for i in range(4) for f in periodic(HOST, f"198.51.100.{i}", period=300, jitter=30, hours=24,
                                                        seed=20 + i)]
    found = {(b.src, b.dst) for b in beacons_of(scraper + lateral + outbound)}
    assert ("10.0.0.50", "10.0.9.9") in found
    assert not any(dst.startswith("10.0.1.") for _, dst in found)
    assert sum(dst.startswith("198.51.100.") for _, dst in found) == 4  # outbound beacons are never folded


def test_pair_ids_are_stable_and_distinct() -> None:
    rows = history_rows(detection(periodic(HOST, C2, period=600, jitter=0, hours=1)
                                  + periodic(HOST, C2, period=600, jitter=0, hours=1, port=80)))
    ids = rows.group_by("dst_port").agg(pl.col("pair_id").unique())
    assert all(len(i) == 1 for i in ids["pair_id"]) and ids["pair_id"].list.first().n_unique() == 2
