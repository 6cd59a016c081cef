"""Policies › Readiness (issue 19 Part B): learn → monitor → enforce per namespace, readiness, and violations."""

from __future__ import annotations

import reflex as rx

from dashboard.components.readiness_tables import mode_confirmation, namespaces_table, violations_table
from dashboard.components.shell import protected_page
from state.readiness import ReadinessState


@protected_page("/policies/readiness", "Readiness", nav=None, on_load=[ReadinessState.load])
def readiness() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.link("Policies", href="/policies"), rx.text("›"), rx.heading("Readiness", size="6"), align="center"
        ),
        rx.text(
            "In monitor, each new window's flows are checked against the approved policies: a flow they would "
            "deny is a violation. Enforce needs ",
            ReadinessState.rule,
            " (the tenant's rule, on Settings).",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            ReadinessState.message != "",
            rx.callout(
                ReadinessState.message,
                size="1",
                id="readiness-message",
                role="status",
                color_scheme=rx.cond(ReadinessState.is_error, "red", "grass"),
            ),
        ),
        mode_confirmation(),
        rx.card(rx.vstack(rx.heading("Namespaces", size="4"), namespaces_table(), width="100%"), width="100%"),
        rx.card(rx.vstack(rx.heading("Open violations", size="4"), violations_table(), width="100%"), width="100%"),
        spacing="3",
        width="100%",
    )
