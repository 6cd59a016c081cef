"""The Audit log page: who did what, when, from where; filter, page, export CSV (approvers and admins)."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import Row, array, event
from dashboard.components.shell import for_role, protected_page
from state.audit import AUDIT_READ_ROLE, AuditState


def _filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.select(AuditState.actions, name="action", default_value="all", id="audit-action"),
            rx.input(name="actor", placeholder="Actor contains…", id="audit-actor", width="14em"),
            rx.input(name="since", placeholder="From (2026-01-31T00:00Z)", id="audit-since", width="14em"),
            rx.input(name="until", placeholder="Until", id="audit-until", width="12em"),
            rx.input(name="text", placeholder="Text in target or changes…", id="audit-text", width="16em"),
            rx.button(rx.icon("filter", size=14), "Filter", type="submit", id="audit-filter"),
            rx.button("Clear", type="button", variant="soft", on_click=AuditState.clear_filters, id="audit-clear"),
            rx.spacer(),
            rx.button(rx.icon("download", size=14), "Export CSV", type="button", variant="outline",
                      on_click=AuditState.export_csv, id="audit-export"),
            align="center", wrap="wrap", width="100%",
        ),
        on_submit=AuditState.apply_filters, reset_on_submit=False, width="100%",
    )


def _row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["when"], white_space="nowrap"),
        rx.table.cell(row["actor"]),
        rx.table.cell(rx.badge(row["action"], variant="surface")),
        rx.table.cell(row["target"], class_name="audit-target"),
        rx.table.cell(rx.text(row["changes"], size="1"), class_name="audit-changes"),
        rx.table.cell(row["ip"]),
        id="audit-" + row["id"],
    )


@protected_page("/audit", "Audit log", nav="Audit log", order=90, role=AUDIT_READ_ROLE, on_load=[AuditState.load])
def audit() -> rx.Component:
    headers = ("When (UTC)", "Actor", "Action", "Target", "Changes", "Address")
    return for_role(AUDIT_READ_ROLE, rx.vstack(
        rx.heading("Audit log", size="6"),
        rx.text("Every sign-in, failed sign-in, role change, token, approval and job control action of this tenant, "
                "newest first.", size="2", color_scheme="gray"),
        _filters(),
        rx.cond(AuditState.error != "", rx.callout(AuditState.error, color_scheme="red", size="1", id="audit-error")),
        rx.cond(
            array(AuditState.rows).length() > 0,
            rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                          rx.table.body(rx.foreach(AuditState.rows, _row)), size="1", width="100%",
                          id="audit-table"),
            rx.text("No audit entries match.", id="audit-empty", color_scheme="gray"),
        ),
        rx.hstack(rx.button("← Previous", size="1", variant="soft", on_click=event(AuditState.page)(-1)),
                  rx.text(AuditState.page_label, size="2", id="audit-page"),
                  rx.button("Next →", size="1", variant="soft", on_click=event(AuditState.page)(1)), align="center"),
        spacing="3", width="100%",
    ))
