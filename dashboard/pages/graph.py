"""Graph: the snapshot's service map with filters, node details, snapshot diff and a live offer."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import array, event, mapping
from dashboard.components.graph_panel import attribution, details_panel, filter_bar, legend, snapshot_pickers
from dashboard.components.plots import graph_plot
from dashboard.components.shell import protected_page
from state.graph import GraphState

PLOT_CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": True,
               "toImageButtonOptions": {"format": "png", "filename": "secureguard-graph", "scale": 2}}


def _live_offer() -> rx.Component:
    return rx.cond(
        mapping(GraphState.live_offer).length() > 0,
        rx.callout(rx.hstack(rx.text("New snapshot (", GraphState.live_offer["window"], ")"),
                             rx.button("show", size="1", on_click=GraphState.show_offer, id="graph-live-show"),
                             align="center"), icon="radio", color_scheme="grass", size="1", id="graph-live-offer"),
    )


def _matches() -> rx.Component:
    return rx.cond(
        array(GraphState.matches).length() > 0,
        rx.hstack(rx.text("Matches:", size="1"),
                  rx.foreach(GraphState.matches, lambda key: rx.button(key, size="1", variant="soft",
                                                                       on_click=event(GraphState.select)(key))),
                  wrap="wrap", id="graph-matches"),
        rx.cond(GraphState.filters["text"] != "", rx.text("No node matches the search.", size="1",
                                                         id="graph-no-match")),
    )


def _not_found() -> rx.Component:
    return rx.callout(rx.hstack(rx.text(GraphState.not_found), rx.link("Open the latest snapshot", href="/graph"),
                                wrap="wrap"), icon="circle-alert", color_scheme="red", id="graph-not-found")


@protected_page("/graph", "Graph", nav="Graph", order=20, on_load=[GraphState.load])
def graph() -> rx.Component:
    return rx.cond(GraphState.not_found != "", rx.vstack(rx.heading("Service graph", size="6"), _not_found()),
                   _graph_view())


def _graph_view() -> rx.Component:
    return rx.vstack(
        rx.heading("Service graph", size="6"),
        rx.text("Home hosts sit in the centre, outside peers around them grouped by network (AS) and country; "
                "arrows point from client to server. Click a node for its details, a group to open it; names "
                "that would overlap show on hover. The address bar links to this view.",
                size="2", color_scheme="gray"),
        snapshot_pickers(),
        filter_bar(),
        _live_offer(),
        rx.cond(GraphState.message != "", rx.callout(GraphState.message, size="1", color_scheme="amber",
                                                      id="graph-message")),
        legend(),
        rx.cond(GraphState.grouped, rx.text("Grouped: outside peers by AS and country, home hosts by namespace and "
                                            "network; click a group to open it (Clear closes them).",
                                            size="1", id="graph-grouped")),
        _matches(),
        rx.hstack(
            rx.box(graph_plot(webgl=GraphState.webgl, data=GraphState.figure, on_click=GraphState.click,
                              config=PLOT_CONFIG, use_resize_handler=True,
                              style={"width": "100%", "height": "640px"}), width="100%",
                   id="graph-plot"),
            details_panel(),
            width="100%", align="start",
        ),
        attribution(),
        spacing="3", width="100%",
    )
