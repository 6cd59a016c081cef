"""Replay: a past period window by window, from the stored snapshots (graph, drift timeline, policies then)."""

from __future__ import annotations

from typing import Any, cast

import plotly.graph_objects as go
import plotly.io as pio
import reflex as rx

from dashboard.components.plots import chart, graph_plot
from dashboard.components.replay_controls import period_form, player
from dashboard.components.replay_panels import counts, legend, policies
from dashboard.components.shell import protected_page
from state.replay import ReplayState

# the frames come without a template (7 KB each per step): the page carries plotly_white once
TEMPLATE = pio.templates["plotly_white"]
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "scrollZoom": True,
    "toImageButtonOptions": {"format": "png", "filename": "secureguard-replay", "scale": 2},
}


def _figure(value: object) -> rx.Var[go.Figure]:
    """A figure the state holds as plain JSON, typed as the plot takes it."""
    return cast(rx.Var[Any], value).to(go.Figure)


@protected_page("/replay", "Replay", nav="Replay", order=25, on_load=[ReplayState.load])
def replay() -> rx.Component:
    return rx.vstack(
        rx.heading("Replay", size="6"),
        rx.text(
            "Watch a past period window by window as it was stored: the service graph, the drift timeline up to "
            "that window, and what the policies approved at that time would have blocked. Share the address "
            "to show someone the same frame.",
            size="2",
            color_scheme="gray",
        ),
        period_form(),
        rx.cond(
            ReplayState.message != "",
            rx.callout(ReplayState.message, icon="info", size="1", color_scheme="amber", id="replay-message"),
        ),
        rx.cond(
            ReplayState.frame_count > 0,
            rx.vstack(
                player(),
                counts(),
                rx.box(
                    chart(
                        data=_figure(ReplayState.timeline),
                        template=TEMPLATE,
                        config={"displaylogo": False, "responsive": True},
                        use_resize_handler=True,
                        style={"width": "100%"},
                    ),
                    width="100%",
                    id="replay-timeline",
                ),
                legend(),
                # side by side on a wide screen; the policies go below the graph on a narrow one
                rx.flex(
                    rx.box(
                        graph_plot(
                            webgl=ReplayState.webgl,
                            data=_figure(ReplayState.figure),
                            template=TEMPLATE,
                            config=PLOT_CONFIG,
                            use_resize_handler=True,
                            style={"width": "100%"},
                        ),
                        flex="1 1 560px",
                        min_width="0",
                        id="replay-plot",
                    ),
                    rx.box(policies(), flex="0 1 30em"),
                    width="100%",
                    align="start",
                    wrap="wrap",
                    gap="3",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )
