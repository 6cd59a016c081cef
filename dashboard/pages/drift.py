"""Drift: incidents first (filters, rank order, the open incident with its events and the analyst's actions), and
the raw drift events on a second tab. Tab, filters and open incident live in the URL, so a link can be shared."""

from __future__ import annotations

import reflex as rx

from dashboard.components.drift_detail import detail_panel
from dashboard.components.drift_events import events_list
from dashboard.components.incident_detail import incident_detail
from dashboard.components.incident_table import incident_filters, incident_table
from dashboard.components.shell import protected_page
from state.drift import DriftListState
from state.drift_detail import DriftDetailState
from state.incident_detail import IncidentDetailState
from state.incidents import IncidentListState

L = IncidentListState


def _incidents() -> rx.Component:
    return rx.vstack(
        rx.text("Events grouped per actor, target and kind, in the order to read them: score (peak risk moved by "
                "analysts' verdicts on similar incidents), then severity, then the latest.",
                size="2", color_scheme="gray"),
        incident_filters(),
        rx.cond(L.message != "", rx.callout(L.message, size="1", color_scheme="amber", id="incident-message")),
        incident_detail(),
        incident_table(),
        spacing="3", width="100%",
    )


@protected_page("/drift", "Drift", nav="Drift", order=30,
                on_load=[IncidentListState.load, IncidentDetailState.open_from_url, DriftListState.load,
                         DriftDetailState.open_from_url])
def drift() -> rx.Component:
    return rx.vstack(
        rx.heading("Drift", size="6"),
        # the event detail opens from either tab; a link to a missing event says so here, above the tabs
        detail_panel(),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger(rx.hstack(rx.text("Incidents"), rx.badge(L.total, variant="soft"), spacing="2",
                                          align="center"), value="incidents", id="tab-incidents"),
                rx.tabs.trigger("Events", value="events", id="tab-events"),
            ),
            rx.tabs.content(_incidents(), value="incidents", padding_top="1em"),
            rx.tabs.content(events_list(), value="events", padding_top="1em"),
            value=L.tab, on_change=L.set_tab, width="100%",
        ),
        spacing="3", width="100%",
    )
