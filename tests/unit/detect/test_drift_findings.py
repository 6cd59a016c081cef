"""Drift events become findings and fold into one incident per kind and source and day."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from jobs.engines.detect.drift_findings import excluded_until, exposed_keys, findings_of_drift
from jobs.engines.detect.home import HomeNetworks
from jobs.engines.detect.incidents import group_incidents
from jobs.engines.detect.pipeline import DetectionState
from jobs.engines.detect.ranking import rank_incidents, shape_of
from jobs.engines.drift.records import DriftEventRecord

from .builders import DAY, HOUR, START

SENSOR = "64.225.56.201"
HOME = HomeNetworks.of(sensors=[SENSOR])


def event(kind: Any, src: str, dst: str, port: int | None = 443, *, risk: float = 50.0, protocol: str = "tcp",
          **evidence: Any) -> DriftEventRecord:
    return DriftEventRecord(kind=kind, src=src, dst=dst, dst_port=port, protocol=protocol, risk=risk,
                            severity="medium", reasons=(), explanation=f"{kind} {src} → {dst}",
                            evidence={"flows": 4, "bytes": 9000} | evidence)


def at(hour: float, events: list[Any]) -> list[Any]:
    start = START + hour * HOUR
    return findings_of_drift(events, home=HOME, window_start=start, window_end=start + HOUR)


def test_kind_actor_direction_and_event_ref_come_from_the_event() -> None:
    outward, inward, inside = at(0, [event("new_external", "shop/api", "45.77.23.9"),
                                      event("new_external", "73.54.23.243", SENSOR, 8080, unanswered=1),
                                      event("new_port", "10.0.0.5", SENSOR, 22)])
    assert (outward.kind, outward.direction, outward.actor, outward.target) == (
        "new_external", "outbound", "shop/api", "45.77.23.9")
    # an outside source acts as its /24, as detection names actors; the public sensor is home
    assert (inward.direction, inward.actor, inward.hosts) == ("inbound", "73.54.23.0/24",
                                                              frozenset({f"{SENSOR}:8080/tcp"}))
    assert (inward.attempts, inward.answered) == (4, 3)
    assert inside.direction == "internal"
    assert outward.facts["event_ref"] == "new_external|shop/api|45.77.23.9|443|tcp"
    assert (outward.first_ts, outward.last_ts, outward.risk) == (START, START + HOUR, 50.0)


def test_a_stored_row_or_its_mapping_is_linked_by_its_id() -> None:
    row = event("new_edge", "shop/cart", "data/postgres", 5432).to_dict() | {"id": 917}
    [finding] = at(0, [row])
    assert finding.facts["event_ref"] == 917 and finding.hosts == frozenset({"data/postgres:5432/tcp"})


def test_kinds_drift_does_not_make_are_refused() -> None:
    with pytest.raises(ValueError, match="not a drift event kind"):
        at(0, [event("beacon", "10.0.0.7", "45.77.23.9")])
    with pytest.raises(ValueError, match="before window_start"):
        findings_of_drift([], home=HOME, window_start=10.0, window_end=5.0)


def test_one_incident_per_kind_and_source_with_a_summary_of_its_peers() -> None:
    lateral = [event("new_edge", "shop/cart", peer, port) for peer, port in (
        ("data/postgres", 5432), ("data/kafka", 9092), ("data/redis", 6379))]
    later = [event("new_edge", "shop/cart", peer, 8080, risk=66.0) for peer in ("shop/checkout", "shop/search",
                                                                                 "shop/frontend")]
    other = [event("new_edge", "shop/catalog", "data/postgres", 22)]
    incidents = group_incidents([*at(0, lateral), *at(2, later), *at(2, other)])
    [cart] = [i for i in incidents if i.entity == "shop/cart"]
    assert (cart.kind, cart.direction, cart.events, cart.peak_risk, cart.severity) == (
        "new_edge", "internal", 6, 66.0, "high")
    assert cart.summary == ("shop/cart reached 6 new peers (data/kafka:9092/tcp, data/postgres:5432/tcp, "
                            "data/redis:6379/tcp, shop/checkout:8080/tcp, +2 more) over 3 h")
    assert [i.entity for i in incidents].count("shop/catalog") == 1


def test_outside_sources_fold_per_home_network_and_a_new_day_opens_a_new_incident() -> None:
    knocks = [event("new_external", f"73.54.{n}.9", SENSOR, 8080, risk=54.0) for n in (1, 2, 3)]
    first = group_incidents([*at(0, knocks[:2]), *at(5, knocks[2:])])
    # inbound: one incident per kind and home network, low at most, as detection rates inbound probes
    [incident] = first
    assert (incident.entity, incident.peak_risk, incident.latest.actor) == (f"{SENSOR}/32", 39.0, "73.54.3.0/24")
    assert incident.latest.facts["event_risk"] == 54.0
    assert incident.summary == (f"3 internet addresses reached for the first time 1 home endpoint of {SENSOR}/32 "
                                f"({SENSOR}:8080/tcp) over 6 h: inbound, the internet's background unless a "
                                "service should not answer")
    again = group_incidents(at(DAY / HOUR + 2, knocks[:1]), open_incidents=first)
    assert [i.events for i in again] == [3, 1]


def test_drift_incidents_rank_beside_detection_and_carry_a_shape() -> None:
    incidents = group_incidents([*at(0, [event("traffic_spike", "shop/worker", "52.94.0.10", risk=63.0)]),
                                 *at(0, [event("removed_edge", "shop/api", "shop/redis", 6379, risk=12.0)])])
    ranked = rank_incidents(incidents)
    assert [r.incident.kind for r in ranked] == ["traffic_spike", "removed_edge"]
    assert ranked[0].incident.summary.startswith("shop/worker sent unusual volumes to 1 peer (52.94.0.10:443/tcp)")
    assert shape_of(ranked[0].incident) == "traffic_spike|outbound||"


def test_a_new_node_incident_keeps_the_event_explanation() -> None:
    [node] = group_incidents(at(0, [event("new_node", "shop/search", "shop/search", None, protocol="", edges=4)]))
    assert node.summary == "new_node shop/search → shop/search" and node.hosts == frozenset({"shop/search"})
    assert node.attempts == 4


def test_excluded_and_exposed_come_from_detection_state() -> None:
    state = DetectionState(excluded={"203.0.113.0/24": START, "10.0.0.5→10.0.0.9": START})
    assert excluded_until(state.excluded) == {"203.0.113.0/24": START + DAY}
    assert excluded_until(state.excluded, within_s=60) == {"203.0.113.0/24": START + 60}
    with pytest.raises(ValueError, match="positive"):
        excluded_until(state.excluded, within_s=0)
    table = pl.DataFrame({"host": [SENSOR], "dst_port": [80], "protocol": ["tcp"], "sources": [41]})
    assert exposed_keys(table) == {(SENSOR, 80, "tcp")} == exposed_keys(table.to_dicts())
