"""The Drift page's incident table: filters, the incidents in rank order, paging, bulk status change."""

from __future__ import annotations

import reflex as rx
from reflex_base.vars import NumberVar

from dashboard.components.badges import severity_badge, status_badge
from dashboard.components.bindings import Row, event
from dashboard.components.bulk import Bulk, bulk_bar, page_checkbox, row_checkbox
from dashboard.components.labelled import labelled_input, labelled_select
from state.incident_detail import IncidentDetailState
from state.incidents import ANY, BULK_STATUSES, CHOICES, IncidentListState

L = IncidentListState
BULK = Bulk(L, "ticked", "incidents", BULK_STATUSES, prefix="incident-bulk-")
# long summaries show three lines in the table (the detail shows them whole)
CLAMP = {"display": "-webkit-box", "-webkit-line-clamp": "3", "-webkit-box-orient": "vertical", "overflow": "hidden"}


def incident_filters() -> rx.Component:
    """Status, kind, direction, severity and text; Enter or the button applies them (and the URL follows)."""
    f = L.filters
    selects = [labelled_select(name.capitalize(), [ANY, *allowed], name=name, default=f[name],
                               field_id=f"incident-filter-{name}") for name, allowed in CHOICES.items()]
    return rx.form(
        rx.hstack(
            *selects,
            labelled_input("Search", name="q", field_id="incident-search", width="18em",
                           placeholder="summary, address, service", default_value=f["q"]),
            rx.button("Filter", type="submit", size="1", id="incident-filter"),
            wrap="wrap", align="center",
        ),
        on_submit=L.apply_filters, reset_on_submit=False,
        # the form keeps its defaults: remount it when a URL changes the filters
        key=f["status"] + f["kind"] + f["direction"] + f["severity"] + f["q"],
    )


def _row(row: Row, index: NumberVar[int]) -> rx.Component:
    return rx.table.row(
        rx.cond(L.can_change, rx.table.cell(row_checkbox(BULK, row["id"]))),
        rx.table.cell(rx.text(index + L.offset + 1, color_scheme="gray")),
        rx.table.cell(severity_badge(row["severity"])),
        rx.table.cell(rx.tooltip(rx.text(row["score"], weight="bold"), content=row["score_note"])),
        rx.table.cell(rx.vstack(rx.text(row["kind_label"], weight="medium"),
                                rx.text(row["direction"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.vstack(rx.code(row["entity"], size="1"),
                                rx.text(row["summary"], size="1", style=CLAMP, title=row["summary"]),
                                rx.cond(row["rank_note"] != "",
                                        rx.text(row["rank_note"], size="1", color_scheme="gray")),
                                spacing="1", max_width="46em")),
        rx.table.cell(row["events"], text_align="right"),
        rx.table.cell(rx.text(row["first_seen"], size="1", white_space="nowrap")),
        rx.table.cell(rx.text(row["last_seen"], size="1", white_space="nowrap")),
        rx.table.cell(status_badge(row["status"])),
        on_click=event(IncidentDetailState.open_incident)(row["id"]),
        cursor="pointer", id="incident-" + row["id"],
        background=rx.cond(L.selected == row["id"], "var(--accent-a3)", "transparent"),
    )


def incident_table() -> rx.Component:
    """Incidents in rank order (score, severity, latest first); a click opens one above the table."""
    headers = ("#", "Severity", "Score", "Kind", "What", "Events", "First seen", "Last seen", "Status")
    tick = rx.cond(L.can_change, rx.table.column_header_cell(page_checkbox(BULK)))
    return rx.vstack(
        rx.cond(L.can_change, bulk_bar(BULK)),
        rx.table.root(
            rx.table.header(rx.table.row(tick, *[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(L.rows, _row)),
            size="1", width="100%", id="incident-table"),
        rx.cond(L.total == 0, rx.callout(
            "No incidents match these filters. Incidents are made from uploaded flows once detection has run; "
            "try status any.", size="1", id="incident-table-empty")),
        rx.hstack(rx.button("← Previous", size="1", variant="soft", on_click=event(L.page)(-1)),
                  rx.text(L.page_label, size="2", id="incident-page"),
                  rx.button("Next →", size="1", variant="soft", on_click=event(L.page)(1)),
                  align="center"),
        spacing="3", width="100%",
    )
