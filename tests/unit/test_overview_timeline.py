"""The Overview timeline (issue 21): it plots what the KPIs count (open incidents, all of them, not the newest
1,000), binned per period and severity, on an axis that follows the data (a 3-day capture of 2024 does not shrink
to a stripe of 2021–2024), with a period picker in the URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.errors import Invalid
from state.figures import coverage_figure, incident_bars_figure
from state.overview import period_from, period_query
from state.timeline import bin_counts, bin_width, period_of, total

NEWEST = datetime(2024, 4, 21, 23, 30, tzinfo=UTC)
OLDEST = datetime(2021, 3, 1, tzinfo=UTC)


def _rows() -> list[tuple[datetime, str]]:
    # 405 critical in the newest three days, 2,000 low ones, and one old medium from 2021
    crit = [(NEWEST - timedelta(minutes=10 * i), "critical") for i in range(405)]
    low = [(NEWEST - timedelta(minutes=2 * i), "low") for i in range(2000)]
    return [*crit, *low, (OLDEST, "medium")]


def test_all_plots_every_open_incident_so_the_bars_add_up_to_the_kpi() -> None:
    rows = _rows()
    period = period_of("all", newest=NEWEST, oldest=OLDEST)
    binned = bin_counts(rows, period)
    assert total(binned) == len(rows) == 2406
    assert sum(n for _, n in binned["critical"]) == 405  # none vanish behind 1,000 newer ones
    figure = incident_bars_figure(binned, period)
    # a trace per severity (a click's curveNumber names it); the legend lists those with bars, with their count
    assert [t.name for t in figure.data] == ["critical (405)", "high (0)", "medium (1)", "low (2,000)", "info (0)"]
    assert [t.showlegend for t in figure.data] == [True, False, True, True, False]
    assert sum(sum(t.y) for t in figure.data) == 2406
    assert period.bin == timedelta(days=30)


def test_the_default_week_ends_at_the_newest_data_and_the_axis_spans_it() -> None:
    period = period_of("7d", newest=NEWEST, oldest=OLDEST)
    assert period.bin == timedelta(hours=6)
    assert period.end > NEWEST >= period.end - period.bin and period.end - period.start <= timedelta(days=7, hours=12)
    figure = incident_bars_figure(bin_counts(_rows(), period), period)
    assert figure.layout.xaxis.range == (period.start.isoformat(), period.end.isoformat())
    # the 2021 incident is outside; the three days of the capture fill the week's bars
    assert total(bin_counts(_rows(), period)) == 2405
    assert bin_width(timedelta(hours=24)) == timedelta(hours=1)


def test_custom_days_and_bad_periods() -> None:
    day = period_of("custom", newest=NEWEST, oldest=OLDEST, start=datetime(2024, 4, 20, tzinfo=UTC),
                    end=datetime(2024, 4, 21, tzinfo=UTC))
    assert (day.start, day.end, day.bin) == (datetime(2024, 4, 20, tzinfo=UTC), datetime(2024, 4, 21, tzinfo=UTC),
                                             timedelta(hours=1))
    with pytest.raises(Invalid, match="custom period needs"):
        period_of("custom", newest=NEWEST, oldest=OLDEST)
    with pytest.raises(Invalid, match="unknown period"):
        period_of("1y", newest=NEWEST, oldest=OLDEST)


def test_the_period_travels_in_the_url() -> None:
    assert period_from({}) == ("7d", "", "", "")
    assert period_from({"period": "all"}) == ("all", "", "", "")
    assert period_from({"from": "2024-04-19", "to": "2024-04-19"}) == ("custom", "2024-04-19", "2024-04-19", "")
    assert period_from({"period": "<x>"})[3] == "Ignored from the link: unknown period '<x>'."
    assert period_query("7d", "", "") == "" and period_query("30d", "", "") == "?period=30d"
    assert period_query("custom", "2024-04-19", "2024-04-20") == "?from=2024-04-19&to=2024-04-20"


def test_the_axis_fits_where_the_incidents_start() -> None:
    week = period_of("7d", newest=NEWEST, oldest=OLDEST)
    hours = [(NEWEST - timedelta(hours=h), "high") for h in range(5)]
    axis = week.fitted(m for m, _ in hours)
    # five hours of data in a week: a 6-hour axis of hourly bars ending with the newest, not a stripe at the edge
    assert axis.end == datetime(2024, 4, 22, tzinfo=UTC) and axis.start == datetime(2024, 4, 21, 18, tzinfo=UTC)
    assert axis.bin == timedelta(hours=1) and total(bin_counts(hours, axis)) == 5
    assert week.fitted([]) == week
    # a 2021 incident and three days of 2024 under "all": the axis keeps 2021 (it is data), bars of 30 days
    everything = period_of("all", newest=NEWEST, oldest=OLDEST)
    assert everything.fitted(m for m, _ in _rows()).start == everything.start


def test_coverage_bars_say_their_counts_and_an_all_zero_chart_says_there_is_no_data() -> None:
    rows = [{"namespace": "shop", "edges": 12, "covered": 0, "percent": 0.0},
            {"namespace": "pay", "edges": 4, "covered": 3, "percent": 75.0}]
    figure = coverage_figure(rows)
    assert list(figure.data[0].text) == ["0 of 12 edges covered", "3 of 4 edges"]
    assert figure.data[0].textposition == "outside" and not figure.layout.annotations
    empty = coverage_figure([{**rows[0]}, {**rows[1], "covered": 0, "percent": 0.0}])
    assert [a.text for a in empty.layout.annotations] == [
        "No data to draw: no approved or deployed policy covers any edge yet"]
