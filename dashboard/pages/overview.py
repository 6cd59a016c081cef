"""Overview: incident KPIs, the top 10 incidents, open incidents over a picked period (click a bar to list them)."""

from __future__ import annotations

import reflex as rx

from dashboard.components.badges import severity_badge
from dashboard.components.bindings import Row, array
from dashboard.components.labelled import labelled_input, labelled_select
from dashboard.components.plots import chart
from dashboard.components.shell import protected_page
from state.overview import OverviewState
from state.timeline import PERIOD_LABELS

S = OverviewState
SEVERITY_KPIS = (("open_critical", "Critical"), ("open_high", "High"), ("open_medium", "Medium"), ("open_low", "Low"),
                 ("open_info", "Info"))


def _kpi(key: str, label: str, *, size: str = "6") -> rx.Component:
    return rx.card(rx.vstack(rx.text(label, size="1", color_scheme="gray"),
                             rx.text(S.kpis[key], size=size, weight="bold", id=f"kpi-{key}"),
                             spacing="1"), min_width="8em")


def _kpis() -> rx.Component:
    return rx.hstack(
        _kpi("open", "Open incidents"),
        rx.hstack(*[_kpi(k, label) for k, label in SEVERITY_KPIS], spacing="2", wrap="wrap", id="kpi-severities"),
        _kpi("last_24h", "New, last 24 h of flows"),
        _kpi("last_snapshot_at", "Last snapshot", size="3"),
        wrap="wrap", spacing="3", align="stretch",
    )


# one grid for the header and every row: the columns line up whatever a row holds (a summary of one line or three,
# a "—" for a time not known)
COLUMNS = {"display": "grid", "grid_template_columns": "7.5em 7.5em minmax(0, 1fr) 12.5em 5.5em",
           "column_gap": "0.75em", "align_items": "center", "width": "100%"}


def _incidents_header() -> rx.Component:
    cells = [("Severity · score", "left"), ("Kind", "left"), ("What", "left"), ("Seen (UTC)", "left"),
             ("Events", "right")]
    return rx.box(*[rx.text(label, size="1", weight="medium", color_scheme="gray", text_align=align)
                    for label, align in cells], style=COLUMNS, id="top-incidents-header")


def _incident(row: Row) -> rx.Component:
    return rx.link(
        rx.box(
            rx.hstack(severity_badge(row["severity"]), rx.badge(row["score"], variant="solid", color_scheme="gray"),
                      spacing="2"),
            rx.vstack(rx.text(row["kind_label"], weight="medium", size="2"),
                      rx.text(row["direction"], size="1", color_scheme="gray"), spacing="0", min_width="0"),
            rx.text(row["summary"], size="2", color="var(--gray-12)", min_width="0", overflow_wrap="anywhere"),
            rx.vstack(rx.text("first ", row["first_seen"], size="1", color_scheme="gray", white_space="nowrap"),
                      rx.text("last ", row["last_seen"], size="1", color_scheme="gray", white_space="nowrap"),
                      spacing="0"),
            rx.text(row["events"], rx.cond(row["events"] == "1", " event", " events"), size="1", white_space="nowrap",
                    text_align="right"),
            style=COLUMNS,
        ),
        href="/drift?incident=" + row["id"], underline="none", id="top-incident-" + row["id"],
        class_name="top-incident",
        # a block, so every row's grid spans the card and its columns line up with the header's whatever the text
        display="block", width="100%",
    )


def _period_picker() -> rx.Component:
    """Last 24 h / 7 days / 30 days / all, counted back from the newest data, or custom whole days (UTC; the days
    count with "custom" only)."""
    return rx.form(
        rx.hstack(
            labelled_select("Period", list(PERIOD_LABELS), name="period", default=S.period, field_id="period-pick"),
            labelled_input("From day", name="from", field_id="period-from", type="date", default_value=S.since_day),
            labelled_input("To day (inclusive)", name="to", field_id="period-to", type="date",
                           default_value=S.until_day),
            rx.button("Show", type="submit", size="1", id="period-show"),
            wrap="wrap", align="center", spacing="3",
        ),
        on_submit=S.pick_period, reset_on_submit=False,
        # the form keeps its defaults: remount it when the URL or a pick changes the period
        key=S.period + S.since_day + S.until_day,
    )


EMPTY = ("No incidents yet: upload flows on the Sources page (or through the API). Detection groups what it finds "
         "into incidents once a snapshot is built from them.")


@protected_page("/overview", "Overview", nav="Overview", order=10, on_load=[OverviewState.load])
def overview() -> rx.Component:
    return rx.vstack(
        rx.heading("Overview", size="6"),
        _kpis(),
        rx.heading("Top incidents", size="4"),
        rx.cond(array(S.top_incidents).length() > 0,
                rx.card(rx.vstack(_incidents_header(), rx.foreach(S.top_incidents, _incident), width="100%",
                                  spacing="3", id="top-incidents"), width="100%"),
                rx.cond(S.recorded == 0, rx.callout(EMPTY, size="1", id="top-incidents-empty"),
                        rx.callout(rx.text("No open incidents: the ", S.recorded, " recorded are acknowledged, "
                                           "resolved or marked. ", rx.link("See them all", href="/drift?status=any"),
                                           "."), size="1", id="top-incidents-empty"))),
        rx.heading("Open incidents over time", size="4"),
        _period_picker(),
        rx.cond(S.period_message != "", rx.callout(S.period_message, size="1", color_scheme="amber",
                                                   id="period-message")),
        rx.text("Open incidents by when they started in the flows, stacked by severity (the ones the KPIs count); "
                "click a bar to list that severity.", size="2", color_scheme="gray"),
        rx.text(S.plotted, " of the ", S.open_total, " open incidents started in this period (", S.period_label,
                ").", size="2", id="timeline-count"),
        rx.cond(S.plotted > 0,
                rx.box(chart(data=S.timeline, on_click=S.open_point, id="timeline",
                            config={"displaylogo": False, "responsive": True}, use_resize_handler=True,
                            style={"width": "100%"}), width="100%"),
                rx.text(rx.cond(S.open_total > 0, "No open incident started in this period: pick a longer one "
                                                  "(all shows every one).", "No open incidents."),
                        size="2", id="timeline-empty")),
        spacing="4", width="100%",
    )
