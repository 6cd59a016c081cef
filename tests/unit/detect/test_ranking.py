"""Reading order, moved for future incidents by analysts' verdicts."""

from __future__ import annotations

from jobs.engines.detect.incidents import Incident, group_incidents
from jobs.engines.detect.ranking import Feedback, rank_incidents, shape_of
from jobs.engines.detect.records import Finding

from .builders import DAY, HOUR, START


def beacon(dst: str, *, day: int, risk: float, port: str = "443/tcp") -> Finding:
    at = START + day * DAY
    return Finding(kind="beacon", direction="outbound", actor="147.32.81.167", target=dst, service=port,
                   first_ts=at, last_ts=at + HOUR, attempts=20, answered=20, risk=risk, explanation=f"to {dst}")


def incidents(*findings: Finding) -> list[Incident]:
    return group_incidents(findings)


def test_without_feedback_the_riskiest_incident_comes_first() -> None:
    ranked = rank_incidents(incidents(beacon("20.54.24.231", day=0, risk=50), beacon("198.51.100.9", day=0, risk=60)))
    assert [(r.rank, r.incident.entity.split(" → ")[1], r.score) for r in ranked] == [
        (1, "198.51.100.9", 60.0), (2, "20.54.24.231", 50.0)]


def test_a_false_positive_lowers_the_same_shape_later_but_not_earlier_incidents() -> None:
    first, *_ = incidents(beacon("20.54.24.231", day=0, risk=62))
    verdict = Feedback.on(first, "false_positive", at=START + HOUR * 2)
    later = incidents(beacon("20.54.24.77", day=3, risk=62), beacon("198.51.100.9", day=3, risk=55),
                      beacon("20.54.24.231", day=0, risk=62))
    ranked = {r.incident.entity.split(" → ")[1] + f"@{r.incident.first_seen:.0f}": r for r in
              rank_incidents(later, [verdict])}
    moved = ranked[f"20.54.24.77@{START + 3 * DAY:.0f}"]
    assert moved.score < 62 and moved.rank == 3  # the same vendor block on 443: now below the unknown peer
    assert "1 similar marked false positive" in moved.note
    assert ranked[f"20.54.24.231@{START:.0f}"].score == 62.0  # the judged incident itself is not re-ranked


def test_the_same_entity_moves_more_than_a_similar_one_and_true_positives_raise() -> None:
    first, *_ = incidents(beacon("20.54.24.231", day=0, risk=60))
    fp = [Feedback.on(first, "false_positive", at=START + HOUR)]
    tp = [Feedback.on(first, "true_positive", at=START + HOUR)]
    again, similar = incidents(beacon("20.54.24.231", day=2, risk=60), beacon("20.54.24.9", day=2, risk=60))
    scores = {r.incident.entity: r.score for r in rank_incidents([again, similar], fp)}
    assert scores[again.entity] == 30.0 and 30.0 < scores[similar.entity] < 60.0
    assert rank_incidents([again], tp)[0].score == 100.0  # doubled, capped at 100


def test_a_shape_is_kind_direction_service_and_the_outside_block() -> None:
    [one] = incidents(beacon("20.54.24.231", day=0, risk=60))
    [other_port] = incidents(beacon("20.54.24.231", day=0, risk=60, port="8883/tcp"))
    assert shape_of(one) == "beacon|outbound|443/tcp|20.54.24.0/24"
    assert shape_of(one) != shape_of(other_port)
