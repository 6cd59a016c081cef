"""The fold of the detection jobs, without I/O: findings into open incidents event by event, incidents to stored
rows and back, and findings as drift-event values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from jobs.engines.detect.campaigns import find_campaigns
from jobs.engines.detect.incidents import Incident, group_incidents
from jobs.engines.detect.pipeline import DetectionState
from jobs.engines.detect.ranking import rank_incidents
from jobs.engines.detect.records import Finding
from jobs.tasks.detect import _merged, finding_event, signature_of
from jobs.tasks.incidents import fold, incident_of, incident_row, plain
from models.incidents import Incident as IncidentModel
from tests.unit.detect.builders import DAY, HOUR, START, by_hour, detection
from tests.unit.detect.test_incidents import HOME_PC, PC, beacon_finding_at, knocks


def scans(hours: int) -> list[Finding]:
    return [f for _, window in by_hour(detection(knocks(hours=hours), HOME_PC)) for f in find_campaigns(window)]


def stored(incident: Incident) -> IncidentModel:
    """The row the fold's upsert writes for an incident, as the database gives it back."""
    [ranked] = rank_incidents([incident])
    return IncidentModel(id=1, tenant_id=1, status="open", **incident_row(ranked).values())


def test_folding_event_by_event_into_stored_incidents_equals_grouping_everything_at_once() -> None:
    found = scans(4) + [beacon_finding_at(h) for h in range(1, 5)]
    at_once = {i.key: i for i in group_incidents(found)}
    first = [f for f in found if f.last_ts < START + 2 * HOUR]
    touched, links = fold(list(enumerate(first)), [])
    reloaded = [incident_of(stored(i)) for i in touched.values()]
    later = [(100 + n, f) for n, f in enumerate(f for f in found if f.last_ts >= START + 2 * HOUR)]
    touched_later, links_later = fold(later, reloaded)
    assert {i.key for i in touched_later.values()} == set(at_once)
    for incident in touched_later.values():
        whole = at_once[incident.key]
        assert (incident.events, incident.attempts, incident.sources, incident.first_seen, incident.last_seen) == (
            whole.events, whole.attempts, whole.sources, whole.first_seen, whole.last_seen)
        assert incident.summary == whole.summary
    # each event names the incident it went into: the stored one it continued
    assert {identity for _, identity in links} == {identity for _, identity in links_later} == set(touched)
    assert sorted(event for event, _ in links_later) == [event for event, _ in later]


def test_a_finding_after_the_quiet_gap_opens_a_new_incident_and_a_stored_one_keeps_its_start() -> None:
    open_one = group_incidents([beacon_finding_at(10)])[0]
    early = replace(beacon_finding_at(11), first_ts=open_one.first_seen - HOUR)
    [(identity, extended)] = fold([(1, early)], [open_one])[0].items()
    assert extended.first_seen == open_one.first_seen and identity[0] == open_one.key and extended.events == 2
    touched, links = fold([(2, beacon_finding_at(10 + DAY / HOUR + 5))], [open_one])
    [(identity, fresh)] = touched.items()
    assert fresh.events == 1 and fresh.first_seen > open_one.last_seen and links == [(2, identity)]


def test_an_incident_row_keeps_what_ranking_and_summaries_need() -> None:
    [incident] = group_incidents(scans(3))
    row = incident_row(rank_incidents([incident])[0])
    assert row.first_seen == datetime.fromtimestamp(incident.first_seen, tz=UTC)
    assert row.totals["source_count"] == 120 and row.totals["latest"]["kind"] == "scan"
    assert row.severity == "low" and row.summary == incident.summary and row.peak_risk == round(incident.peak_risk)
    back = incident_of(stored(incident))
    assert back.summary == incident.summary and back.ports == incident.ports and back.latest.facts == plain(
        incident.latest.facts)


def test_findings_become_drift_event_values_one_per_signature() -> None:
    [scan] = scans(1)
    event = finding_event(scan)
    assert (event["kind"], event["src"], event["dst"], event["dst_port"], event["protocol"]) == (
        "scan", "*", f"{PC}/32", None, "tcp")
    assert event["explanation"].startswith("40 unanswered SYNs from 40 internet addresses")
    assert event["evidence"]["source_count"] == 40 and event["severity"] == scan.severity == "low"
    beacon = finding_event(beacon_finding_at(1))
    assert (beacon["dst_port"], beacon["protocol"], beacon["explanation"]) == (443, "tcp", "beacon text")
    intrusion = Finding(kind="intrusion", direction="inbound", actor="45.9.20.0/24", target=PC, service="ssh",
                        first_ts=START, last_ts=START + HOUR, attempts=31, answered=31, risk=93.0,
                        ports=frozenset({"22/tcp"}), explanation="got in")
    again = replace(intrusion, first_ts=START + 600)
    assert signature_of(intrusion) != signature_of(again)
    assert finding_event(intrusion)["dst_port"] == 22


def test_a_late_window_never_rewinds_the_state() -> None:
    current = DetectionState(observed_from=START, excluded={"a": START + 5 * HOUR}, habits={"h": START + HOUR},
                             reported={"b": (50.0, START + 5 * HOUR)})
    late = DetectionState(observed_from=START - HOUR, excluded={"a": START + 2 * HOUR, "c": START + 2 * HOUR},
                          habits={"h": START, "i": START + 2 * HOUR}, reported={"b": (60.0, START + 2 * HOUR)})
    merged = _merged(current, late)
    assert merged.observed_from == START - HOUR
    assert merged.excluded == {"a": START + 5 * HOUR, "c": START + 2 * HOUR}
    assert merged.habits == {"h": START, "i": START + 2 * HOUR}
    assert merged.reported == {"b": (60.0, START + 5 * HOUR)}


def test_a_verdict_counts_from_the_judged_incidents_flow_time_so_a_replayed_capture_is_judged_by_it() -> None:
    from datetime import UTC, datetime

    from jobs.tasks.incidents import feedback_of
    from models.incidents import IncidentFeedback

    given = datetime(2026, 12, 4, 12, tzinfo=UTC)
    judged_last_seen = datetime(2024, 4, 19, 20, tzinfo=UTC)
    row = IncidentFeedback(id=1, tenant_id=1, incident_id=7, verdict="false_positive", key="k", shape="s",
                           created_at=given)
    [replayed] = feedback_of([row], {7: judged_last_seen})
    assert replayed.at == judged_last_seen.timestamp()
    [unknown] = feedback_of([row], {})  # the judged incident is gone: from when the verdict was given
    assert unknown.at == given.timestamp()


def test_an_incident_past_the_listed_addresses_keeps_its_count_when_extended() -> None:
    from jobs.tasks.incidents import _with_unlisted
    from models.incidents import MAX_LISTED, incident_totals

    addresses = [f"10.{n // 256}.{n % 256}.1" for n in range(1_512)]
    totals = incident_totals(sources=addresses, hosts=[], ports={}, actors={}, answered_ports=[], facts={},
                             latest={}, shape="s")
    assert len(totals["sources"]) == MAX_LISTED and totals["source_count"] == 1_512
    rebuilt = _with_unlisted(totals["sources"], totals["source_count"], "source")
    assert len(rebuilt) == 1_512
    again = incident_totals(sources=rebuilt | {"192.0.2.7"}, hosts=[], ports={}, actors={}, answered_ports=[],
                            facts={}, latest={}, shape="s")
    assert again["source_count"] == 1_513
    assert not any(a.startswith("\uffff") for a in again["sources"])
