"""The Drift page's "Events" tab: the raw drift events with filters, server-side sort and paging, bulk status change
(moved here from dashboard/pages/drift.py when incidents became the page's first tab)."""

from __future__ import annotations

import reflex as rx

from dashboard.components.badges import severity_badge, status_badge
from dashboard.components.bindings import Row, event
from dashboard.components.bulk import Bulk, bulk_bar, page_checkbox, row_checkbox
from dashboard.components.labelled import labelled_input, labelled_select
from models.drift import EVENT_STATUSES
from state.drift import ANY, KINDS, SEVERITIES, DriftListState
from state.drift_detail import DriftDetailState

BULK = Bulk(DriftListState, "selected", "events", ("acknowledged", "resolved", "false_positive"))


def _filters() -> rx.Component:
    """Labelled filters; the days are whole days in UTC (from = to is that one day)."""
    f = DriftListState.filters
    return rx.form(
        rx.hstack(
            labelled_select("Kind", [ANY, *KINDS], name="kind", default=f["kind"], field_id="drift-filter-kind"),
            labelled_select("Severity", [ANY, *SEVERITIES], name="severity", default=f["severity"],
                            field_id="drift-filter-severity"),
            labelled_select("Status", [ANY, *EVENT_STATUSES], name="status", default=f["status"],
                            field_id="drift-filter-status"),
            labelled_input("Min risk", name="min_risk", field_id="drift-filter-min-risk", type="number", min=0,
                           max=100, width="5em", default_value=f["min_risk"]),
            labelled_input("Search", name="text", field_id="drift-search", placeholder="src, dst, explanation",
                           width="14em", default_value=f["text"]),
            labelled_input("From day", name="since", field_id="drift-filter-since", type="date",
                           default_value=f["since"]),
            labelled_input("To day (inclusive, UTC)", name="until", field_id="drift-filter-until", type="date",
                           default_value=f["until"]),
            rx.button("Filter", type="submit", size="1", id="drift-filter"),
            wrap="wrap", align="center",
        ),
        on_submit=DriftListState.apply_filters, reset_on_submit=False,
        # the form keeps its defaults: remount it when a link sets the filters
        key=f["kind"] + f["severity"] + f["status"] + f["min_risk"] + f["text"] + f["since"] + f["until"],
    )


def _header(label: str, column: str | None = None) -> rx.Component:
    if column is None:
        return rx.table.column_header_cell(label)
    arrow = rx.cond(DriftListState.sort == column, rx.cond(DriftListState.descending, " ↓", " ↑"), "")
    return rx.table.column_header_cell(rx.link(label, arrow, on_click=event(DriftListState.sort_by)(column),
                                               cursor="pointer"))


def _row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row_checkbox(BULK, row["id"])),
        rx.table.cell(rx.text(row["risk"], weight="bold")),
        rx.table.cell(severity_badge(row["severity"])),
        rx.table.cell(row["kind"]),
        rx.table.cell(rx.code(row["src"], size="1")),
        rx.table.cell(rx.code(row["dst"], size="1")),
        rx.table.cell(status_badge(row["status"])),
        rx.table.cell(row["window"]),
        rx.table.cell(rx.button("Open", size="1", variant="soft",
                                on_click=event(DriftDetailState.open_event)(row["id"]), id="open-event-" + row["id"])),
        id="event-" + row["id"],
    )


def events_list() -> rx.Component:
    """The raw list, as the Drift page showed it before incidents."""
    select_page = rx.table.column_header_cell(page_checkbox(BULK))
    headers = [select_page, _header("Risk", "risk"), _header("Severity", "severity"), _header("Kind", "kind"),
               _header("Source"), _header("Destination"), _header("Status"), _header("Window (UTC)", "window_start"),
               _header("")]
    return rx.vstack(
        _filters(),
        rx.cond(DriftListState.fresh > 0, rx.button(DriftListState.fresh, " new events: show", size="1",
                                                     on_click=DriftListState.show_fresh, id="drift-fresh")),
        rx.cond(DriftListState.message != "", rx.callout(DriftListState.message, size="1", id="drift-message")),
        rx.cond(DriftListState.can_change, bulk_bar(BULK)),
        rx.table.root(rx.table.header(rx.table.row(*headers)),
                      rx.table.body(rx.foreach(DriftListState.rows, _row)), size="1", width="100%", id="drift-table"),
        rx.hstack(rx.button("← Previous", size="1", variant="soft", on_click=event(DriftListState.page)(-1)),
                  rx.text(DriftListState.page_label, size="2", id="drift-page"),
                  rx.button("Next →", size="1", variant="soft", on_click=event(DriftListState.page)(1)),
                  align="center"),
        spacing="3", width="100%",
    )
