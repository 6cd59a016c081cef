"""One incident, above the table: summary, the statistics behind its score, its events (each opens the event
detail), and the analyst's actions with a confirmation for resolve and the verdicts."""

from __future__ import annotations

import reflex as rx

from dashboard.components.badges import severity_badge, status_badge
from dashboard.components.bindings import Row, array, event
from state.drift_detail import DriftDetailState
from state.incident_detail import ATTRIBUTION_LINK, ATTRIBUTION_TEXT, IncidentDetailState

D = IncidentDetailState
QUESTIONS = {
    "resolved": "Resolve this incident? Its events are resolved with it; new activity opens a new incident.",
    "false_positive": "Mark this incident a false positive? Its events take that status, and incidents like it found "
                      "from now on rank lower.",
    "true_positive": "Confirm this incident as a true positive? Incidents like it found from now on rank higher.",
}


def _facts() -> rx.Component:
    i = D.incident
    counts = [("First seen", i["first_seen"]), ("Last seen", i["last_seen"]), ("Events", i["events"]),
              ("Attempts", i["attempts"]), ("Answered", i["answered"]), ("Sources", i["sources"]),
              ("Hosts", i["hosts"]), ("Ports", D.ports)]
    return rx.grid(
        rx.data_list.root(*[rx.data_list.item(rx.data_list.label(k), rx.data_list.value(v)) for k, v in counts],
                          size="1", id="incident-counts"),
        rx.vstack(
            rx.text("Why this score (its latest finding's statistics)", weight="bold", size="2"),
            rx.data_list.root(rx.foreach(D.facts, lambda kv: rx.data_list.item(
                rx.data_list.label(kv[0]), rx.data_list.value(kv[1]))), size="1", id="incident-facts"),
            rx.cond(array(D.actors).length() > 0, rx.vstack(
                rx.text("Heaviest actors", weight="bold", size="2"),
                rx.foreach(D.actors, lambda a: rx.text(rx.code(a["actor"], size="1"), " ", a["attempts"],
                                                       " attempts", size="1")),
                spacing="1", id="incident-actors")),
            spacing="2"),
        columns="2", spacing="5", width="100%", align_items="start",
    )


def _owners() -> rx.Component:
    """Who holds the incident's outside addresses (ASN, organisation, country), with the data's attribution."""
    return rx.cond(array(D.owners).length() > 0, rx.vstack(
        rx.text("Outside addresses", weight="bold", size="2"),
        rx.foreach(D.owners, lambda o: rx.text(rx.code(o["address"], size="1"), " ", o["owner"], size="1")),
        rx.text(ATTRIBUTION_TEXT, " ", rx.link("db-ip.com", href=ATTRIBUTION_LINK, is_external=True), size="1",
                color_scheme="gray", id="incident-owners-attribution"),
        spacing="1", id="incident-owners"))


def _actions() -> rx.Component:
    buttons = [("Acknowledge", "acknowledged", "amber"), ("Resolve", "resolved", "grass"), ("Reopen", "open", "gray"),
               ("True positive", "true_positive", "red"), ("False positive", "false_positive", "gray")]
    return rx.hstack(
        *[rx.button(label, size="1", variant="soft", color_scheme=color, on_click=event(D.act)(action),
                    id=f"incident-{action.replace('_', '-')}") for label, action, color in buttons],
        rx.alert_dialog.root(rx.alert_dialog.content(
            rx.alert_dialog.title("Incident #", D.incident["id"], ": ", D.incident["kind_label"]),
            rx.alert_dialog.description(rx.match(D.pending, *QUESTIONS.items(), "")),
            rx.form(
                rx.vstack(
                    rx.text_area(name="note", placeholder="note for the other analysts (optional)", max_length=2000,
                                 width="100%", id="incident-note"),
                    rx.hstack(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", type="button",
                                                               on_click=D.cancel)),
                              rx.button("Confirm", type="submit", id="incident-confirm"),
                              justify="end", spacing="3", width="100%"),
                    spacing="3", margin_top="1em"),
                on_submit=D.confirm),
        ), open=D.pending != ""),
        spacing="2", wrap="wrap",
    )


def _event_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["risk"], weight="bold")),
        rx.table.cell(severity_badge(row["severity"])),
        rx.table.cell(row["kind"]),
        rx.table.cell(rx.code(row["src"], size="1")),
        rx.table.cell(rx.code(row["dst"], size="1")),
        rx.table.cell(rx.text(row["window"], size="1", white_space="nowrap")),
        rx.table.cell(status_badge(row["status"])),
        rx.table.cell(rx.button("Open", size="1", variant="soft",
                                on_click=event(DriftDetailState.open_event)(row["id"]))),
        id="incident-event-" + row["id"],
    )


def _events() -> rx.Component:
    headers = ("Risk", "Severity", "Kind", "Source", "Destination", "Window", "Status", "")
    return rx.vstack(
        rx.text("Its events", weight="bold", size="2"),
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                      rx.table.body(rx.foreach(D.events, _event_row)), size="1", width="100%", id="incident-events"),
        rx.hstack(rx.button("← Previous", size="1", variant="soft", on_click=event(D.events_page)(-1)),
                  rx.text(D.events_label, size="2", id="incident-events-page"),
                  rx.button("Next →", size="1", variant="soft", on_click=event(D.events_page)(1)),
                  align="center"),
        spacing="2", width="100%",
    )


def incident_detail() -> rx.Component:
    """The open incident (nothing when none is open; a refusal or a missing id shows as a notice)."""
    i = D.incident
    head = rx.hstack(
        severity_badge(i["severity"]),
        rx.badge("score ", i["score"], variant="solid", color_scheme="gray"),
        rx.heading(i["kind_label"], size="4"), rx.text(i["direction"], color_scheme="gray"),
        status_badge(i["status"]),
        rx.cond(i["status_by"] != "", rx.text("by ", i["status_by"], ", ", i["status_at"], size="1",
                                              color_scheme="gray")),
        rx.spacer(), rx.text("incident id ", i["id"], size="1", color_scheme="gray"),
        rx.button("Close", size="1", variant="soft", on_click=D.close, id="incident-close"),
        align="center", width="100%")
    card = rx.card(rx.vstack(
        head,
        rx.code(i["entity"], " ", i["service"]),
        rx.text(i["summary"], size="3", id="incident-summary"),
        rx.cond(i["rank_note"] != "", rx.text(i["rank_note"], size="1", color_scheme="gray", id="incident-rank-note")),
        rx.cond(D.notice != "", rx.callout(D.notice, size="1", id="incident-notice")),
        rx.cond(D.can_change, _actions()),
        _facts(),
        _owners(),
        _events(),
        spacing="3", width="100%"), width="100%", id="incident-detail")
    return rx.fragment(
        rx.cond(D.is_open, card, rx.cond(D.notice != "", rx.callout(D.notice, size="1", color_scheme="amber",
                                                                    id="incident-notice"))))
