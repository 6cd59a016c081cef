"""Policies: generated NetworkPolicies with their proof, coverage per namespace, generation, and review."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import Row, array, event
from dashboard.components.policy_badges import policy_status_badge
from dashboard.components.policy_detail import detail_panel
from dashboard.components.shell import protected_page
from models.policy import POLICY_STATUSES
from state.policies import ANY, CURRENT, PoliciesState
from state.policy_detail import PolicyDetailState
from state.policy_downloads import PolicyDownloadState

S = PoliciesState


def _filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.select([CURRENT, ANY, *POLICY_STATUSES], name="status", default_value=S.filters["status"], size="1",
                      id="policy-status-filter"),
            rx.select(S.namespaces, name="namespace", default_value=S.filters["namespace"], size="1",
                      id="policy-namespace-filter"),
            rx.input(name="text", placeholder="search name or workload", size="1", width="16em",
                     default_value=S.filters["text"], id="policy-search"),
            rx.button("Filter", type="submit", size="1", id="policy-filter"),
            wrap="wrap", align="center"),
        on_submit=S.apply_filters, reset_on_submit=False)


def _generate() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.text("Generate from the newest", size="2"),
            rx.input(name="last", type="number", min=1, max=168, default_value="1", size="1", width="5em",
                     id="generate-last"),
            rx.text("snapshot(s)", size="2"),
            rx.button(rx.cond(S.generating, "Generating…", "Generate"), type="submit", size="1",
                      disabled=S.generating, id="policy-generate"),
            align="center"),
        on_submit=S.generate, reset_on_submit=False)


def _coverage() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading("Coverage", size="3"), rx.text(S.coverage_total, size="2", color_scheme="gray"),
                  align="center"),
        rx.cond(
            array(S.coverage).length() > 0,
            rx.box(rx.plotly(data=S.coverage_chart, id="coverage-chart"), width="100%"),
            rx.text("No snapshot yet: coverage appears once flows are ingested.", size="2", id="coverage-empty")),
        rx.foreach(S.coverage, lambda c: rx.text(c["namespace"], ": ", c["covered"], " of ", c["edges"], " edges (",
                                                 c["percent"], " %)", size="1", id="coverage-" + c["namespace"])),
        spacing="2", width="100%")


def _row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["namespace"]),
        rx.table.cell(rx.link(row["name"], on_click=event(PolicyDetailState.open_policy)(row["id"]), cursor="pointer")),
        rx.table.cell(row["version"]),
        rx.table.cell(policy_status_badge(row["status"])),
        rx.table.cell(rx.code(row["workload"], size="1")),
        rx.table.cell(rx.badge(row["proof"], color_scheme=rx.cond(row["exact"] == "yes", "grass", "amber"))),
        rx.table.cell(row["notes"]),
        rx.table.cell(row["updated"]),
        rx.table.cell(rx.button("Review", size="1", variant="soft",
                                on_click=event(PolicyDetailState.open_policy)(row["id"]))),
        id="policy-" + row["id"],
    )


def _table() -> rx.Component:
    headers = ("Namespace", "Policy", "Version", "Status", "Workload", "Proof", "Notes", "Updated", "")
    return rx.cond(
        array(S.rows).length() > 0,
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                      rx.table.body(rx.foreach(S.rows, _row)), size="1", width="100%", id="policies-table"),
        rx.callout("No policies match. Generate them from a snapshot (analysts and above).", size="1",
                   id="policies-empty"))


@protected_page("/policies", "Policies", nav="Policies", order=60,
                on_load=[PoliciesState.load, PolicyDetailState.open_from_url])
def policies() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Policies", size="6"), rx.spacer(),
            rx.button("Download approved bundle", size="1", variant="outline", id="policies-bundle",
                      on_click=PolicyDownloadState.download_bundle),
            width="100%", align="center"),
        rx.cond(S.can_generate, _generate()),
        rx.cond(S.message != "", rx.callout(S.message, size="1", id="policies-message",
                                            color_scheme=rx.cond(S.message_error, "red", "blue"))),
        _filters(),
        _table(),
        rx.text(S.total, " version(s)", size="1", color_scheme="gray"),
        _coverage(),
        detail_panel(),
        spacing="3", width="100%",
    )
