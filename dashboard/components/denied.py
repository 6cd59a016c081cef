"""The refusal banner under the header: why the last action or page was refused (role too low)."""

from __future__ import annotations

import reflex as rx

from state.base import AppState


def denied_banner() -> rx.Component:
    """Shown while `AppState.denied` holds a refusal; the user can dismiss it, a new page clears it."""
    return rx.cond(
        AppState.denied != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("shield-alert")),
            rx.hstack(
                rx.callout.text(AppState.denied, id="denied-text"),
                rx.spacer(),
                rx.button("Dismiss", size="1", variant="ghost", on_click=AppState.dismiss_denied, id="denied-dismiss"),
                align="center", width="100%",
            ),
            color_scheme="amber", role="alert", id="denied", width="100%", max_width="1400px", margin_top="1em",
        ),
    )
