"""Overview: KPIs, the live drift timeline (click a point to open the event), top risks."""

from __future__ import annotations

import reflex as rx

from dashboard.components.badges import severity_badge
from dashboard.components.bindings import Row, array
from dashboard.components.shell import protected_page
from state.overview import OverviewState

KPIS = (("open", "Open events"), ("open_high", "Open high / critical"), ("events_24h", "Events, last 24 h"),
        ("suppressed", "Suppressed"), ("snapshots", "Snapshots"), ("last_snapshot_at", "Last snapshot"))


def _kpi(key: str, label: str) -> rx.Component:
    return rx.card(rx.vstack(rx.text(label, size="1", color_scheme="gray"),
                             rx.text(OverviewState.kpis[key], size="6", weight="bold", id=f"kpi-{key}"),
                             spacing="1"), min_width="10em")


def _risk(row: Row) -> rx.Component:
    return rx.link(
        rx.hstack(rx.badge(row["risk"], variant="solid", color_scheme="gray"), severity_badge(row["severity"]),
                  rx.text(row["kind"], weight="medium", size="2"), rx.code(row["path"], size="1"),
                  rx.text(row["explanation"], size="1", color_scheme="gray", trim="both"), align="center",
                  spacing="3", width="100%"),
        href="/drift?event=" + row["id"], underline="none", id="risk-" + row["id"],
    )


@protected_page("/overview", "Overview", nav="Overview", order=10, on_load=[OverviewState.load])
def overview() -> rx.Component:
    return rx.vstack(
        rx.heading("Overview", size="6"),
        rx.hstack(*[_kpi(k, label) for k, label in KPIS], wrap="wrap", spacing="3"),
        rx.heading("Drift timeline", size="4"),
        rx.text("Each point is a drift event; click one to open it. New events appear as workers find them.",
                size="2", color_scheme="gray"),
        rx.box(rx.plotly(data=OverviewState.timeline, on_click=OverviewState.open_point, id="timeline",
                         config={"displaylogo": False, "responsive": True}, use_resize_handler=True,
                         style={"width": "100%"}), width="100%"),
        rx.heading("Top open risks", size="4"),
        rx.cond(array(OverviewState.top_risks).length() > 0,
                rx.vstack(rx.foreach(OverviewState.top_risks, _risk), width="100%", spacing="2", id="top-risks"),
                rx.callout("No open drift events. Events appear once two or more snapshots exist.", size="1",
                           id="top-risks-empty")),
        spacing="4", width="100%",
    )
