"""The drift event detail drawer: explanation, reasons with evidence, history, feedback, status, whitelist."""

from __future__ import annotations

import reflex as rx

from dashboard.components.badges import severity_badge, status_badge
from dashboard.components.bindings import array, event
from state.drift_detail import DriftDetailState


def _reasons() -> rx.Component:
    headers = ("Reason", "Evidence", "Strength", "× Weight", "= Points")
    return rx.vstack(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(DriftDetailState.reasons, lambda r: rx.table.row(
                rx.table.cell(r["feature"]), rx.table.cell(r["evidence"]),
                rx.table.cell(r["strength"], text_align="right"), rx.table.cell(r["weight"], text_align="right"),
                rx.table.cell(rx.text(r["contribution"], weight="medium"), text_align="right")))),
            size="1", width="100%", id="event-reasons",
        ),
        rx.text(DriftDetailState.formation, size="2", id="event-score-formation"),
        spacing="2", width="100%",
    )


def _evidence() -> rx.Component:
    return rx.cond(array(DriftDetailState.evidence).length() > 0, rx.vstack(
        rx.text("Evidence", weight="bold", size="2"),
        rx.data_list.root(rx.foreach(DriftDetailState.evidence, lambda kv: rx.data_list.item(
            rx.data_list.label(kv[0], min_width="14em"), rx.data_list.value(kv[1]))), size="1", id="event-evidence"),
        spacing="1", width="100%"))


def _actions() -> rx.Component:
    return rx.vstack(
        rx.hstack(*[rx.button(s.replace("_", " "), size="1", variant="soft",
                              on_click=event(DriftDetailState.set_status)(s), id=f"status-{s}")
                    for s in ("acknowledged", "resolved", "open")], spacing="2"),
        rx.form(rx.hstack(
            rx.input(name="note", placeholder="note (optional)", size="1", width="16em"),
            rx.button("True positive", size="1", color_scheme="red", id="feedback-tp", type="button",
                      on_click=event(DriftDetailState.give_feedback)("true_positive")),
            rx.button("False positive", size="1", color_scheme="gray", id="feedback-fp", type="submit"),
        ), on_submit=lambda form: event(DriftDetailState.give_feedback)("false_positive", form)),
        rx.form(rx.hstack(
            rx.input(name="reason", placeholder="why this is expected (required)", size="1", width="16em",
                     required=True, id="whitelist-reason"),
            rx.input(name="days", type="number", default_value="30", min=1, max=365, size="1", width="5em"),
            rx.text("days", size="1"),
            rx.button("Whitelist pattern", size="1", variant="outline", type="submit", id="whitelist-submit"),
        ), on_submit=DriftDetailState.whitelist),
        spacing="2",
    )


def detail_panel() -> rx.Component:
    """A dialog with everything about one event; a link to a missing event says so on the page."""
    e = DriftDetailState.event
    missing = rx.cond(~DriftDetailState.is_open & (DriftDetailState.notice != ""),
                      rx.callout(DriftDetailState.notice, size="1", color_scheme="amber", id="event-missing"))
    return rx.fragment(missing, rx.dialog.root(rx.dialog.content(
        rx.vstack(
            rx.hstack(rx.badge(e["risk"], variant="solid"), severity_badge(e["severity"]),
                      rx.heading(e["kind"], size="4"), status_badge(e["status"]), align="center"),
            rx.code(e["src"], " → ", e["dst"], "/", e["protocol"]),
            rx.text(e["explanation"], size="3", id="event-explanation"),
            rx.text("Window ", e["window"], size="1", color_scheme="gray"),
            _reasons(),
            _evidence(),
            rx.cond(DriftDetailState.notice != "", rx.callout(DriftDetailState.notice, size="1", id="event-notice")),
            _actions(),
            rx.text("History", weight="bold", size="2"),
            rx.foreach(DriftDetailState.history, lambda h: rx.text(h["at"], " · ", h["actor"], " · ", h["action"],
                                                                   " ", h["detail"], size="1")),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", on_click=DriftDetailState.close)),
                      justify="end", width="100%"),
            spacing="3", width="100%",
        ),
        max_width="900px",
    ), open=DriftDetailState.is_open, on_open_change=lambda _: event(DriftDetailState.close)()))
