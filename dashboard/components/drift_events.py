"""The Drift page's "Events" tab: the raw drift events with filters, server-side sort and paging, bulk status change
(moved here from dashboard/pages/drift.py when incidents became the page's first tab)."""

from __future__ import annotations

import reflex as rx

from dashboard.components.badges import severity_badge, status_badge
from dashboard.components.bindings import Row, array, event
from models.drift import EVENT_STATUSES
from state.drift import ANY, KINDS, SEVERITIES, DriftListState
from state.drift_detail import DriftDetailState


def _filters() -> rx.Component:
    f = DriftListState.filters
    return rx.form(
        rx.hstack(
            rx.select([ANY, *KINDS], name="kind", default_value=f["kind"], size="1"),
            rx.select([ANY, *SEVERITIES], name="severity", default_value=f["severity"], size="1"),
            rx.select([ANY, *EVENT_STATUSES], name="status", default_value=f["status"], size="1"),
            rx.input(name="min_risk", placeholder="min risk", type="number", min=0, max=100, width="7em", size="1",
                     default_value=f["min_risk"]),
            rx.input(name="text", placeholder="search src, dst, explanation", width="16em", size="1",
                     default_value=f["text"], id="drift-search"),
            rx.input(name="since", type="date", size="1", default_value=f["since"]),
            rx.input(name="until", type="date", size="1", default_value=f["until"]),
            rx.button("Filter", type="submit", size="1", id="drift-filter"),
            wrap="wrap", align="center",
        ),
        on_submit=DriftListState.apply_filters, reset_on_submit=False,
    )


def _header(label: str, column: str | None = None) -> rx.Component:
    if column is None:
        return rx.table.column_header_cell(label)
    arrow = rx.cond(DriftListState.sort == column, rx.cond(DriftListState.descending, " ↓", " ↑"), "")
    return rx.table.column_header_cell(rx.link(label, arrow, on_click=event(DriftListState.sort_by)(column),
                                               cursor="pointer"))


def _row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.checkbox(checked=array(DriftListState.selected).contains(row["id"]),
                                  on_change=lambda _: event(DriftListState.toggle)(row["id"]))),
        rx.table.cell(rx.text(row["risk"], weight="bold")),
        rx.table.cell(severity_badge(row["severity"])),
        rx.table.cell(row["kind"]),
        rx.table.cell(rx.code(row["src"], size="1")),
        rx.table.cell(rx.code(row["dst"], size="1")),
        rx.table.cell(status_badge(row["status"])),
        rx.table.cell(row["window"]),
        rx.table.cell(rx.button("Open", size="1", variant="soft",
                                on_click=event(DriftDetailState.open_event)(row["id"]))),
        id="event-" + row["id"],
    )


def _bulk() -> rx.Component:
    return rx.hstack(
        rx.text(array(DriftListState.selected).length(), " selected", size="2"),
        *[rx.button(s.replace("_", " "), size="1", variant="soft", on_click=event(DriftListState.ask_bulk)(s),
                    disabled=array(DriftListState.selected).length() == 0, id=f"bulk-{s}")
          for s in ("acknowledged", "resolved", "false_positive")],
        rx.alert_dialog.root(rx.alert_dialog.content(
            rx.alert_dialog.title("Change ", array(DriftListState.selected).length(), " events?"),
            rx.alert_dialog.description("They will be marked ", DriftListState.pending_bulk,
                                        ". Each change is audited with your name."),
            rx.hstack(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", on_click=DriftListState.cancel_bulk)),
                      rx.alert_dialog.action(rx.button("Confirm", on_click=DriftListState.confirm_bulk,
                                                       id="bulk-confirm")),
                      justify="end", spacing="3", margin_top="1em"),
        ), open=DriftListState.pending_bulk != ""),
        align="center",
    )


def events_list() -> rx.Component:
    """The raw list, as the Drift page showed it before incidents."""
    headers = [_header(""), _header("Risk", "risk"), _header("Severity", "severity"), _header("Kind", "kind"),
               _header("Source"), _header("Destination"), _header("Status"), _header("Window", "created_at"),
               _header("")]
    return rx.vstack(
        _filters(),
        rx.cond(DriftListState.fresh > 0, rx.button(DriftListState.fresh, " new events: show", size="1",
                                                     on_click=DriftListState.show_fresh, id="drift-fresh")),
        rx.cond(DriftListState.message != "", rx.callout(DriftListState.message, size="1", id="drift-message")),
        rx.cond(DriftListState.can_change, _bulk()),
        rx.table.root(rx.table.header(rx.table.row(*headers)),
                      rx.table.body(rx.foreach(DriftListState.rows, _row)), size="1", width="100%", id="drift-table"),
        rx.hstack(rx.button("← Previous", size="1", variant="soft", on_click=event(DriftListState.page)(-1)),
                  rx.text(DriftListState.page_label, size="2", id="drift-page"),
                  rx.button("Next →", size="1", variant="soft", on_click=event(DriftListState.page)(1)),
                  align="center"),
        spacing="3", width="100%",
    )
