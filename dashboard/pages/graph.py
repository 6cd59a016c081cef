"""Graph: the snapshot's service map with filters, node details, snapshot diff and a live offer."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import array, event, mapping
from dashboard.components.graph_panel import details_panel, filter_bar, legend, snapshot_pickers
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


@protected_page("/graph", "Graph", nav="Graph", order=20, on_load=[GraphState.load])
def graph() -> rx.Component:
    return rx.vstack(
        rx.heading("Service graph", size="6"),
        rx.text("Click a node for its details, a group to open it. Export the view as PNG with the camera icon.",
                size="2", color_scheme="gray"),
        snapshot_pickers(),
        filter_bar(),
        _live_offer(),
        rx.cond(GraphState.message != "", rx.callout(GraphState.message, size="1", color_scheme="amber",
                                                      id="graph-message")),
        legend(),
        rx.cond(GraphState.grouped, rx.text("Large graph: grouped by namespace and /24; click a group to open it.",
                                            size="1", id="graph-grouped")),
        _matches(),
        rx.hstack(
            rx.box(rx.plotly(data=GraphState.figure, on_click=GraphState.click, config=PLOT_CONFIG,
                             use_resize_handler=True, style={"width": "100%"}), width="100%", id="graph-plot"),
            details_panel(),
            width="100%", align="start",
        ),
        spacing="3", width="100%",
    )
