"""Overview: incident KPIs, the incident timeline (click a point to open it), the top 10 incidents."""

from __future__ import annotations

import reflex as rx

from dashboard.components.badges import severity_badge
from dashboard.components.bindings import Row, array
from dashboard.components.shell import protected_page
from state.overview import OverviewState

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


def _incident(row: Row) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.hstack(severity_badge(row["severity"]), rx.badge(row["score"], variant="solid", color_scheme="gray"),
                      width="7.5em", flex_shrink="0", spacing="2"),
            rx.vstack(rx.text(row["kind_label"], weight="medium", size="2"),
                      rx.text(row["direction"], size="1", color_scheme="gray"), spacing="0", width="7em",
                      flex_shrink="0"),
            rx.text(row["summary"], size="2", flex="1", color="var(--gray-12)"),
            rx.vstack(rx.text("first ", row["first_seen"], size="1", color_scheme="gray", white_space="nowrap"),
                      rx.text("last ", row["last_seen"], size="1", color_scheme="gray", white_space="nowrap"),
                      spacing="0"),
            rx.text(row["events"], rx.cond(row["events"] == "1", " event", " events"), size="1", white_space="nowrap",
                    width="5.5em", text_align="right", flex_shrink="0"),
            align="center", spacing="3", width="100%",
        ),
        href="/drift?incident=" + row["id"], underline="none", id="top-incident-" + row["id"],
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
                rx.card(rx.vstack(rx.foreach(S.top_incidents, _incident), width="100%", spacing="3",
                                  id="top-incidents"), width="100%"),
                rx.cond(S.recorded == 0, rx.callout(EMPTY, size="1", id="top-incidents-empty"),
                        rx.callout(rx.text("No open incidents: the ", S.recorded, " recorded are acknowledged, "
                                           "resolved or marked. ", rx.link("See them all", href="/drift?status=any"),
                                           "."), size="1", id="top-incidents-empty"))),
        rx.heading("Incident timeline", size="4"),
        rx.text("Each point is an incident at its first report, coloured by severity, higher when it ranks higher, "
                "larger with more events; click one to open it.", size="2", color_scheme="gray"),
        rx.cond(S.plotted > 0,
                rx.box(rx.plotly(data=S.timeline, on_click=S.open_point, id="timeline",
                                 config={"displaylogo": False, "responsive": True}, use_resize_handler=True,
                                 style={"width": "100%"}), width="100%"),
                rx.text("No incident in the 7 days up to the last snapshot.", size="2", id="timeline-empty")),
        spacing="4", width="100%",
    )
