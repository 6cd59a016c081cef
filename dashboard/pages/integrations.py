"""The Integrations page (admins): where incidents are sent, a Test button per receiver, and its deliveries."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import Row, event
from dashboard.components.integration_edit import integration_edit
from dashboard.components.integration_form import integration_form
from dashboard.components.report_digest_form import report_digest_form
from dashboard.components.shell import for_role, protected_page
from state.integrations import IntegrationsState
from state.report_digest import ReportDigestState

STATUS_COLOURS = (("sent", "grass"), ("pending", "amber"), ("failed", "red"), ("dead", "red"), ("skipped", "gray"))


def _integration(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row["name"], on_click=event(IntegrationsState.select)(row["id"]), cursor="pointer")),
        rx.table.cell(row["kind"]),
        rx.table.cell(row["min_severity"]),
        rx.table.cell(rx.text(row["target"], size="1", class_name="integration-target")),
        rx.table.cell(row["secrets"]),
        rx.table.cell(row["enabled"]),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Test",
                    size="1",
                    on_click=event(IntegrationsState.test)(row["id"]),
                    id="integration-test-" + row["id"],
                ),
                rx.button(
                    "Edit",
                    size="1",
                    variant="soft",
                    on_click=event(IntegrationsState.start_edit)(row["id"]),
                    id="integration-edit-" + row["id"],
                ),
                rx.button("Deliveries", size="1", variant="soft", on_click=event(IntegrationsState.select)(row["id"])),
                rx.button(
                    "Delete",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=event(IntegrationsState.ask_delete)(row["id"]),
                    id="integration-delete-" + row["id"],
                ),
            )
        ),
        id="integration-" + row["id"],
    )


def _delivery(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["created"]),
        rx.table.cell(row["kind"]),
        rx.table.cell(row["incident"]),
        rx.table.cell(
            rx.badge(row["status"], color_scheme=rx.match(row["status"], *STATUS_COLOURS, "gray")),
            class_name="delivery-status",
        ),
        rx.table.cell(row["attempts"]),
        rx.table.cell(row["latency"]),
        rx.table.cell(rx.text(row["error"], size="1"), class_name="delivery-error"),
        rx.table.cell(row["ref"]),
        class_name="delivery-row",
    )


def _confirm() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete integration?"),
            rx.alert_dialog.description(
                "Its settings, secrets and delivery history are removed. Incidents are no longer sent to it."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", on_click=IntegrationsState.cancel_delete)),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete",
                        color_scheme="red",
                        id="integration-confirm-delete",
                        on_click=IntegrationsState.confirm_delete,
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
        open=IntegrationsState.pending_delete != "",
    )


def _deliveries() -> rx.Component:
    headers = ("Queued", "Kind", "Incident", "Status", "Attempts", "Latency", "Last answer", "Ref")
    return rx.cond(
        IntegrationsState.selected != "",
        rx.vstack(
            rx.hstack(
                rx.heading("Deliveries", size="4"),
                rx.button(
                    rx.icon("refresh-cw", size=14),
                    "Refresh",
                    size="1",
                    variant="soft",
                    on_click=IntegrationsState.load,
                    id="deliveries-refresh",
                ),
                align="center",
            ),
            rx.cond(
                IntegrationsState.deliveries.length() > 0,  # type: ignore[attr-defined]
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                    rx.table.body(rx.foreach(IntegrationsState.deliveries, _delivery)),
                    size="1",
                    width="100%",
                    id="deliveries-table",
                ),
                rx.text(
                    "Nothing sent to this integration yet: press Test, or wait for an incident.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            width="100%",
        ),
    )


@protected_page(
    "/integrations",
    "Integrations",
    nav="Integrations",
    order=75,
    role="admin",
    on_load=[IntegrationsState.load, ReportDigestState.load_digest],
)
def integrations() -> rx.Component:
    headers = ("Name", "Kind", "Min severity", "Sends to", "Secrets set", "Enabled", "")
    return for_role(
        "admin",
        rx.vstack(
            rx.heading("Integrations", size="6"),
            rx.text(
                "Incidents and their updates go to these receivers once each, with retries; secrets are kept "
                "encrypted and never shown again.",
                size="2",
                color_scheme="gray",
            ),
            integration_form(),
            report_digest_form(),
            rx.cond(
                IntegrationsState.message != "",
                rx.callout(
                    IntegrationsState.message,
                    size="1",
                    id="integrations-message",
                    color_scheme=rx.cond(IntegrationsState.is_error, "red", "blue"),
                ),
            ),
            rx.cond(
                IntegrationsState.integrations.length() > 0,  # type: ignore[attr-defined]
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                    rx.table.body(rx.foreach(IntegrationsState.integrations, _integration)),
                    size="1",
                    width="100%",
                    id="integrations-table",
                ),
                rx.text("No integrations yet: add one above.", size="2", color_scheme="gray"),
            ),
            _deliveries(),
            _confirm(),
            integration_edit(),
            spacing="3",
            width="100%",
        ),
    )
