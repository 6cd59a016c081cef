"""Issue 21: the Drift events tab's filters go into the address bar (`ev_…`, beside the incident list's own) and a
link restores them; a value that is none of the choices is refused and named."""

from __future__ import annotations

from state.drift import DEFAULT_FILTERS, filters_from_url, url_filters


def test_only_what_differs_from_the_defaults_goes_in_the_url_and_comes_back() -> None:
    assert url_filters(DEFAULT_FILTERS) == {}
    chosen = {**DEFAULT_FILTERS, "kind": "beacon", "severity": "high", "status": "any", "text": "10.0.0.5",
              "since": "2024-04-19", "until": "2024-04-19", "min_risk": "40"}
    params = url_filters(chosen)
    assert params == {"ev_kind": "beacon", "ev_severity": "high", "ev_status": "any", "ev_q": "10.0.0.5",
                      "ev_since": "2024-04-19", "ev_until": "2024-04-19", "ev_risk": "40"}
    # the incident list's own parameters are not read as the events' filters
    assert filters_from_url({**params, "status": "resolved", "kind": "scan"}) == (chosen, [])


def test_a_link_with_a_bad_choice_keeps_the_default_and_says_why() -> None:
    found, refused = filters_from_url({"ev_kind": "phishing", "ev_severity": "high"})
    assert found == {**DEFAULT_FILTERS, "severity": "high"}
    assert len(refused) == 1 and refused[0].startswith("kind 'phishing' is not one of")
