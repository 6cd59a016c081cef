"""An event's evidence and score as the Drift page shows them (state.evidence), and the events tab's day filter
(state.drift): issue 21's "raw dump", "114.5 vs 81 with no word why" and "since = until is refused"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.errors import Invalid
from state.drift import day_bounds, filter_args
from state.evidence import evidence_rows, reason_rows, saturated, score_breakdown

# reasons as the drift engine stored them for a new external peer (contributions add up to 114.5)
REASONS = [
    {"feature": "port_sensitivity", "value": 0.9, "weight": 30.0, "contribution": 27.0, "evidence": "ssh"},
    {"feature": "kind", "value": 1.0, "weight": 25.0, "contribution": 25.0, "evidence": "new external peer"},
    {"feature": "novelty", "value": 1.0, "weight": 20.0, "contribution": 20.0, "evidence": "never seen"},
    {"feature": "criticality", "value": 1.0, "weight": 20.0, "contribution": 20.0, "evidence": "db"},
    {"feature": "external_peer", "value": 1.0, "weight": 15.0, "contribution": 15.0, "evidence": "outside"},
    {"feature": "volume", "value": 0.25, "weight": 30.0, "contribution": 7.5, "evidence": "10 MB"},
]


def test_the_breakdown_shows_how_114_5_raw_points_make_risk_81() -> None:
    text = score_breakdown(REASONS, 81)
    assert "114.5 raw points" in text and "e^(−114.5 / 70)" in text and "= 81" in text
    assert round(saturated(114.5)) == 81
    rows = reason_rows(REASONS)
    assert rows[0] == {"feature": "port sensitivity", "evidence": "ssh", "strength": "0.90", "weight": "30",
                       "contribution": "+27.0"}


def test_a_detection_risk_is_said_to_be_set_directly_and_a_mismatch_is_not_hidden() -> None:
    beacon = [{"feature": "beacon", "value": 1.0, "weight": 52.3, "contribution": 52.3, "evidence": "every 1 m"}]
    assert "set directly by the beacon detection" in score_breakdown(beacon, 52)
    assert "but the stored risk is 40" in score_breakdown(REASONS, 40)
    assert "stores no reasons" in score_breakdown([], 10)


def test_evidence_reads_with_labels_and_units() -> None:
    evidence = {"direction": "outbound", "first_ts": 1713484800.0, "ports": ["22/tcp"], "attempts": 1234,
                "sources": [f"10.0.0.{i}" for i in range(15)],
                "facts": {"period_s": 87.2, "jitter": 0.02, "size_mode": 1500, "size_mode_share": 0.97,
                          "ts_score": 0.981, "summary": "shown elsewhere"}, "bytes": 3_100_000}
    rows = dict(map(tuple, evidence_rows(evidence)))  # type: ignore[arg-type]
    assert rows["rhythm"] == "every 1 m 27 s ± 2 %"
    assert rows["first flow"] == "2024-04-19 00:00:00 UTC"
    assert rows["ports"] == "22/tcp" and rows["attempts"] == "1,234" and rows["bytes in the window"] == "3.1 MB"
    assert rows["most common size"] == "1.5 KB" and rows["share of that size"] == "97 %"
    assert rows["timestamp regularity"] == "0.98 of 1"
    assert rows["source addresses"].endswith("… (3 more)")
    assert not any("period_s" in k or "summary" in k or "facts" in k for k in rows)


def test_one_day_is_the_whole_day_and_a_backwards_range_says_so() -> None:
    start, end = day_bounds("2024-04-19", "2024-04-19")
    assert (start, end) == (datetime(2024, 4, 19, tzinfo=UTC), datetime(2024, 4, 20, tzinfo=UTC))
    with pytest.raises(Invalid, match=r"the to day \(2024-04-18\) is before the from day"):
        day_bounds("2024-04-19", "2024-04-18")
    with pytest.raises(Invalid, match="must be a date like"):
        day_bounds("19/04/2024", "")
    args = filter_args({"kind": "any", "severity": "high", "status": "any", "min_risk": "40", "text": "",
                        "since": "", "until": "2024-04-19"})
    assert args == {"kind": None, "severity": "high", "status": None, "min_risk": 40, "text": None, "since": None,
                    "until": datetime(2024, 4, 20, tzinfo=UTC)}
    with pytest.raises(Invalid, match="min risk must be a whole number"):
        filter_args({"kind": "any", "severity": "any", "status": "any", "min_risk": "4x"})


def test_an_incident_score_says_how_it_comes_from_the_peak_risk() -> None:
    from state.incidents import score_note

    assert score_note(84.0, 84.0) == ("score 84 = the peak risk of its events (no analyst verdict on the same or "
                                      "similar ones)")
    assert score_note(66.7, 84.0, "analysts: 1 similar marked false positive") == (
        "score 67 = peak risk 84 × 0.79 from analysts' verdicts (1 similar marked false positive)")
    assert "(capped at 100)" in score_note(100.0, 81.0, "analysts: 1 the same confirmed")
