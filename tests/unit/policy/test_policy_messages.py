"""The Policies page's words: generation results, coverage, impact preview, observation span, the period form."""

from __future__ import annotations

import pytest

from models.errors import Invalid
from state.policies import coverage_note, observation_text
from state.policy_detail import impact_summary
from state.policy_generation import generation_message, parse_period


def test_zero_workload_windows_say_why_there_are_no_policies() -> None:
    text = generation_message({"no_workloads": True, "windows": 3, "workload_windows": 0, "policies": 0})
    assert text.startswith("0 policies: these 3 snapshot(s) have no workloads")
    done = generation_message({"windows": 168, "workload_windows": 120, "policies": 7, "created": [1, 2],
                               "unchanged": 5, "exact": True, "skipped": []})
    assert "7 policies from 120 of 168 window(s) holding workloads" in done and "exactly" in done


def test_coverage_says_what_is_true() -> None:
    assert coverage_note({"ready_snapshots": 0, "snapshot_id": None}).startswith("No snapshot yet")
    none = coverage_note({"ready_snapshots": 115, "snapshot_id": None})
    assert none.startswith("115 snapshot(s), none holding Kubernetes workloads") and "No snapshot yet" not in none
    some = coverage_note({"ready_snapshots": 115, "snapshot_id": 9, "window_start": "2024-04-21T10:00:00+00:00"})
    assert some == "Measured on the window of 2024-04-21 10:00 UTC, the newest of 115 snapshot(s) that holds workloads."


def test_impact_summary_names_the_windows_and_flows_checked() -> None:
    found = {"namespace": "kube-system", "snapshots": 12, "windows_from": "2024-04-19T00:00:00+00:00",
             "windows_to": "2024-04-19T12:00:00+00:00", "checked_flows": 4321, "blocked": [{}],
             "blocked_edges": 2, "blocked_flows": 40}
    text = impact_summary(found)
    assert text == ("Would block 2 observed connection(s), 40 flows, in the 12 newest window(s) holding workloads "
                    "of kube-system (2024-04-19 00:00 to 2024-04-19 12:00 UTC, 4,321 flows of the pods it selects).")
    assert impact_summary({**found, "blocked": []}).startswith("Blocks none of the traffic in the 12 newest")
    assert impact_summary({**found, "snapshots": 0}) == (
        "No snapshot holds workloads of kube-system: nothing to preview against.")


def test_observation_below_the_tenant_minimum_is_flagged() -> None:
    minute = {"observed_from": "2024-04-19T10:00:00+00:00", "observed_to": "2024-04-19T10:01:00+00:00",
              "observed_flows": 12, "observed_windows": 1}
    assert observation_text(minute, 24) == ("1 min, 12 flows in 1 window(s)", True)
    week = {**minute, "observed_to": "2024-04-26T10:00:00+00:00", "observed_flows": 9000, "observed_windows": 168}
    assert observation_text(week, 24) == ("7.0 days, 9,000 flows in 168 window(s)", False)
    assert observation_text({}, 24)[1] is False


def test_the_period_form_is_checked_in_words() -> None:
    start, end = parse_period("2024-04-19T00:00", "2024-04-26T00:00")
    assert (end - start).days == 7 and start.tzinfo is not None
    with pytest.raises(Invalid, match="end must come after its start"):
        parse_period("2024-04-26T00:00", "2024-04-19T00:00")
    with pytest.raises(Invalid, match="start is missing"):
        parse_period("", "2024-04-19T00:00")
