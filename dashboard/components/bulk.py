"""Bulk status change of a list (Drift events, incidents): a tick per row, a page-wide tick in the header, "select all
N matching this filter", the status buttons and a confirmation naming the count (`state.bulk`).

The list's state has: the ticked ids (`ticked`, a list of str), `all_matching`, `total`, `rows`, `page_selected`,
`bulk_count`, `pending_bulk`, and the handlers `toggle`, `select_scope`, `ask_bulk`, `cancel_bulk`, `confirm_bulk`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from dashboard.components.bindings import array, event


@dataclass(frozen=True)
class Bulk:
    """One list's bulk change: its state, the name of its ticked-ids var, the plural noun, the statuses offered
    and the prefix of the element ids (`bulk-` keeps the Drift events list's ids)."""

    state: Any
    ticked: str
    noun: str
    statuses: tuple[str, ...]
    prefix: str = "bulk-"

    def var(self, name: str) -> Any:
        return getattr(self.state, name)


def row_checkbox(bulk: Bulk, row_id: Any) -> rx.Component:
    """The tick of one row (shown ticked while every matching row is chosen)."""
    return rx.checkbox(checked=bulk.var("all_matching") | array(bulk.var(bulk.ticked)).contains(row_id),
                       on_change=lambda _: event(bulk.var("toggle"))(row_id),
                       # a click on the tick is not a click on the row (which may open it)
                       on_click=rx.stop_propagation,
                       custom_attrs={"aria-label": f"select {bulk.noun[:-1]} " + row_id})


def page_checkbox(bulk: Bulk) -> rx.Component:
    """The header's tick: every row on this page."""
    return rx.checkbox(checked=bulk.var("page_selected") | bulk.var("all_matching"),
                       on_change=lambda _: event(bulk.var("select_scope"))("page"), id=f"{bulk.prefix}select-page",
                       custom_attrs={"aria-label": f"select every {bulk.noun[:-1]} on this page"})


def _scope(bulk: Bulk) -> rx.Component:
    """What the change covers: the ticked rows, or every row matching the filters."""
    total, ticked = bulk.var("total"), array(bulk.var(bulk.ticked))
    clear = rx.link("Clear", on_click=event(bulk.var("select_scope"))("none"), cursor="pointer")
    matching = rx.text("All ", total, f" {bulk.noun} matching these filters are selected. ", clear, size="2",
                       id=f"{bulk.prefix}scope")
    offer = rx.link("Select all ", total, " matching this filter", cursor="pointer",
                    on_click=event(bulk.var("select_scope"))("matching"), id=f"{bulk.prefix}select-matching")
    many = bulk.var("page_selected") & (total > array(bulk.var("rows")).length())
    selected = rx.text(ticked.length(), " selected", rx.cond(many, rx.fragment(". ", offer)), size="2",
                       id=f"{bulk.prefix}scope")
    return rx.cond(bulk.var("all_matching"), matching, selected)


def bulk_bar(bulk: Bulk) -> rx.Component:
    """The scope, a button per status, and the confirmation with the count."""
    nothing = (array(bulk.var(bulk.ticked)).length() == 0) & ~bulk.var("all_matching")
    pending = bulk.var("pending_bulk")
    buttons = [rx.button(s.replace("_", " "), size="1", variant="soft", on_click=event(bulk.var("ask_bulk"))(s),
                         disabled=nothing, id=f"{bulk.prefix}{s}") for s in bulk.statuses]
    dialog = rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title("Change ", bulk.var("bulk_count"), f" {bulk.noun}?"),
        rx.alert_dialog.description(
            "They will be marked ", pending,
            rx.cond(bulk.var("all_matching"), f" (every {bulk.noun[:-1]} matching the filters, on every page)", ""),
            ". Each change is audited with your name."),
        rx.hstack(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", on_click=bulk.var("cancel_bulk"))),
                  rx.alert_dialog.action(rx.button("Confirm", on_click=bulk.var("confirm_bulk"),
                                                   id=f"{bulk.prefix}confirm")),
                  justify="end", spacing="3", margin_top="1em"),
    ), open=pending != "")
    return rx.hstack(_scope(bulk), *buttons, dialog, align="center", wrap="wrap")
