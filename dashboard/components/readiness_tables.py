"""The Readiness page's parts: the namespaces table with the mode switch, its confirmation, and the violations."""

from __future__ import annotations

import reflex as rx

from dashboard.components.badges import severity_badge
from dashboard.components.bindings import Row, array, event, mapping
from dashboard.components.labelled import labelled_input
from models.namespaces import NAMESPACE_MODES
from models.tenancy import ROLE_RANK
from state.base import AppState
from state.readiness import ReadinessState

_MODE_COLOURS = {"learn": "gray", "monitor": "amber", "enforce": "grass"}


def mode_badge(mode: object) -> rx.Component:
    return rx.badge(mode, color_scheme=rx.match(mode, *_MODE_COLOURS.items(), "gray"), variant="soft")


def _switch(row: Row) -> rx.Component:
    """One button per other mode (approvers); each asks for a reason and a confirmation first."""
    buttons = [
        rx.cond(
            row["mode"] != mode,
            rx.button(
                f"→ {mode}",
                size="1",
                variant="soft",
                id=f"mode-{mode}-" + row["namespace"],
                on_click=event(ReadinessState.ask_mode)(row["cluster"], row["namespace"], mode),
            ),
        )
        for mode in NAMESPACE_MODES
    ]
    return rx.cond(
        AppState.role_rank >= ROLE_RANK["approver"],
        rx.hstack(*buttons, spacing="1"),
        rx.text("approvers switch", size="1", color_scheme="gray"),
    )


def _namespace_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(row["key"], size="1")),
        rx.table.cell(mode_badge(row["mode"])),
        rx.table.cell(row["days"]),
        rx.table.cell(rx.text(row["open"], weight="bold")),
        rx.table.cell(row["blocked"]),
        rx.table.cell(
            rx.vstack(
                rx.badge(row["ready"], color_scheme=rx.cond(row["ready"] == "ready", "grass", "orange")),
                rx.text(row["why"], size="1", color_scheme="gray"),
                spacing="1",
            )
        ),
        rx.table.cell(_switch(row)),
        id="ns-" + row["namespace"],
    )


def namespaces_table() -> rx.Component:
    headers = [
        "Namespace",
        "Mode",
        "Days in monitor",
        "Open violations",
        "Would-be-blocked flows",
        "Readiness",
        "Switch mode",
    ]
    return rx.cond(
        array(ReadinessState.namespaces).length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(array(ReadinessState.namespaces), _namespace_row)),
            width="100%",
            size="1",
            id="readiness-namespaces",
        ),
        rx.text(
            "No namespace has an approved policy yet: approve a policy on Policies, then monitor its namespace.",
            size="2",
            color_scheme="gray",
            id="readiness-empty",
        ),
    )


def mode_confirmation() -> rx.Component:
    pending = mapping(ReadinessState.pending)
    return rx.cond(
        pending.length() > 0,
        rx.card(
            rx.form(
                rx.vstack(
                    rx.text(
                        "Switch ", rx.code(pending["namespace"]), " to ", rx.text.strong(pending["mode"]), "?", size="2"
                    ),
                    rx.cond(
                        pending["mode"] == "enforce",
                        rx.text("Enforce is refused unless the readiness rule holds.", size="1", color_scheme="gray"),
                    ),
                    labelled_input(
                        "Reason (kept in the audit log)",
                        name="reason",
                        field_id="mode-reason",
                        width="28em",
                        required=True,
                    ),
                    rx.hstack(
                        rx.button("Confirm", type="submit", size="1", id="mode-confirm"),
                        rx.button(
                            "Cancel",
                            type="button",
                            size="1",
                            variant="soft",
                            color_scheme="gray",
                            on_click=ReadinessState.cancel_mode,
                            id="mode-cancel",
                        ),
                    ),
                    spacing="2",
                ),
                on_submit=ReadinessState.set_mode,
                reset_on_submit=True,
                key=ReadinessState.form_key,
            ),
            id="mode-dialog",
        ),
    )


def _violation_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["risk"], weight="bold")),
        rx.table.cell(severity_badge(row["severity"])),
        rx.table.cell(rx.code(row["flow"], size="1")),
        rx.table.cell(rx.text(row["explanation"], size="1")),
        rx.table.cell(row["flows"]),
        rx.table.cell(row["window"]),
        rx.table.cell(
            rx.cond(
                AppState.role_rank >= ROLE_RANK["analyst"],
                rx.hstack(
                    rx.button(
                        "Amend",
                        size="1",
                        id="amend-" + row["id"],
                        on_click=event(ReadinessState.amend)(row["id"]),
                    ),
                    rx.button(
                        "Confirm",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        id="confirm-" + row["id"],
                        on_click=event(ReadinessState.confirm)(row["id"]),
                    ),
                    spacing="1",
                ),
            )
        ),
        id="violation-" + row["id"],
    )


def violations_table() -> rx.Component:
    headers = ["Risk", "Severity", "Flow", "Why it would be blocked", "Flows", "Window", "Action"]
    return rx.cond(
        array(ReadinessState.violations).length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(array(ReadinessState.violations), _violation_row)),
            width="100%",
            size="1",
            id="readiness-violations",
        ),
        rx.text(
            "No open violations: every flow of the monitored namespaces' windows is admitted, or explained.",
            size="2",
            color_scheme="gray",
            id="violations-empty",
        ),
    )
