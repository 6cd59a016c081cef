"""What the Overview and Drift pages make of incidents: rows, KPIs that add up, facts in words, the shareable URL,
(pure functions of state/incidents.py, state/incident_detail.py, state/overview.py)."""

from __future__ import annotations

from typing import Any

from state.incident_detail import actor_rows, fact_rows, fact_text
from state.incidents import DEFAULT_FILTERS, changed_ids, filters_from, incident_row, share_query, when
from state.overview import incident_kpis


def _incident(**overrides: Any) -> dict[str, Any]:
    base = {"id": 7, "key": "beacon|outbound|10.0.0.5 → 64.1.2.3|443/tcp", "kind": "beacon", "direction": "outbound",
            "entity": "10.0.0.5 → 64.1.2.3", "service": "443/tcp", "severity": "high", "peak_risk": 81,
            "score": 40.5, "rank_note": "analysts: 1 similar marked false positive", "status": "open",
            "status_by": "", "status_at": None, "first_seen": "2024-04-19T10:00:00+00:00",
            "first_reported": "2024-04-19T11:00:00+00:00", "last_seen": "2024-04-19T16:30:00+00:00",
            "events": 1234, "attempts": 56789, "answered": 0, "sources": 1, "hosts": 1,
            "summary": "every 60 s ± 2 s", "facts": {}, "ports": ["443/tcp"], "top_actors": []}
    return base | overrides


def test_an_incident_row_shows_times_in_utc_and_counts_with_separators() -> None:
    row = incident_row(_incident(status_at="2024-04-19T18:05:00+02:00"))
    assert row["first_seen"] == "2024-04-19 10:00 UTC"
    assert row["status_at"] == "2024-04-19 16:05 UTC"
    assert (row["events"], row["attempts"], row["score"], row["kind_label"]) == ("1,234", "56,789", "40", "beacon")
    assert incident_row(_incident(kind="brute_force"))["kind_label"] == "brute force"
    assert when(None) == "—"


def test_filters_from_a_url_keep_known_values_and_say_what_they_refused() -> None:
    found, refused = filters_from({"status": "any", "kind": "beacon", "severity": "urgent", "q": "  64.1.2.3 "})
    assert found == {"status": "any", "kind": "beacon", "direction": "any", "severity": "any", "q": "64.1.2.3"}
    assert len(refused) == 1 and "severity 'urgent'" in refused[0]
    assert filters_from({}) == (DEFAULT_FILTERS, [])


def test_the_shareable_query_names_only_what_differs_from_the_defaults() -> None:
    assert share_query(DEFAULT_FILTERS) == ""
    assert share_query(DEFAULT_FILTERS, incident_id="12") == "?incident=12"
    query = share_query({**DEFAULT_FILTERS, "kind": "scan", "q": "a&b c"}, tab="events", incident_id="3")
    assert query == "?kind=scan&q=a%26b+c&tab=events&incident=3"
    # and it reads back as the same filters
    params = dict(p.split("=") for p in query[1:].split("&"))
    assert filters_from({**params, "q": "a&b c"})[0]["kind"] == "scan"


def test_changed_ids_read_the_live_event() -> None:
    assert changed_ids({"type": "incident.changed", "data": {"ids": [3, 4]}}) == {"3", "4"}
    assert changed_ids({"type": "incident.changed", "data": {}}) == set()


def test_kpis_add_up_to_the_open_total() -> None:
    kpis = incident_kpis({"open": {"critical": 1, "high": 2, "low": 1200}, "since": 5},
                         last_snapshot_at="2024-04-19T12:00:00+00:00")
    assert kpis["open"] == "1,203"
    assert sum(int(kpis[f"open_{s}"].replace(",", "")) for s in ("critical", "high", "medium", "low", "info")) == 1203
    assert (kpis["last_24h"], kpis["last_snapshot_at"]) == ("5", "2024-04-19 12:00 UTC")
    assert incident_kpis({})["open"] == "0"


def test_facts_read_as_words() -> None:
    rows = fact_rows({"period_s": 60.0, "ts_score": 0.987, "infrastructure": False, "summary": "skipped",
                      "histogram": 0.5, "scanners": [f"1.2.3.{i}" for i in range(15)], "connections": 1440,
                      "event_ref": 38, "signature": "new_external|a|b|443|tcp"})
    assert rows[0] == ["period (s)", "60.0"]
    assert ["timestamp regularity score", "0.99"] in rows and ["infrastructure", "no"] in rows
    assert ["connections", "1,440"] in rows
    assert not [r for r in rows if r[0] in ("summary", "event ref", "signature")]
    scanners = next(v for k, v in rows if k == "scanners")
    assert scanners.endswith("… (3 more)") and "1.2.3.11" in scanners and "1.2.3.12" not in scanners
    assert fact_text([]) == "none" and fact_text(None) == "—"


def test_actor_rows_read_dicts_and_pairs() -> None:
    assert actor_rows([{"actor": "1.2.3.4", "attempts": 1500, "ports": 3}, ["5.6.7.8", 2]]) == [
        {"actor": "1.2.3.4", "attempts": "1,500"}, {"actor": "5.6.7.8", "attempts": "2"}]


def test_the_last_day_ends_at_the_newest_data() -> None:
    from datetime import UTC, datetime

    from state.overview import data_end

    assert data_end("2024-04-19T23:00:00+00:00") == datetime(2024, 4, 20, tzinfo=UTC)
    assert abs((data_end(None) - datetime.now(UTC)).total_seconds()) < 5
    assert abs((data_end(datetime.now(UTC).isoformat()) - datetime.now(UTC)).total_seconds()) < 5
