"""Policies: generated NetworkPolicies with their proof, coverage per (cluster, namespace), generation, and
review."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import Row, array, event
from dashboard.components.plots import chart
from dashboard.components.policy_badges import policy_status_badge
from dashboard.components.policy_detail import detail_panel
from dashboard.components.shell import protected_page
from models.policy import POLICY_STATUSES
from state.policies import ANY, CURRENT, PoliciesState
from state.policy_detail import PolicyDetailState
from state.policy_downloads import PolicyDownloadState
from state.policy_generation import GenerationState

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


G = GenerationState


def _generate() -> rx.Component:
    mode = rx.radio_group.root(
        rx.hstack(rx.radio_group.item(value="period", id="generate-mode-period"), rx.text("period", size="2"),
                  rx.radio_group.item(value="newest", id="generate-mode-newest"), rx.text("newest", size="2"),
                  align="center", spacing="2"),
        name="mode", default_value="period", size="1")
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.text("Generate from", size="2"), mode,
                rx.text("from (UTC)", size="1"),
                rx.input(name="start", type="datetime-local", default_value=G.period["start"], size="1",
                         id="generate-start", aria_label="period start (UTC)"),
                rx.text("to", size="1"),
                rx.input(name="end", type="datetime-local", default_value=G.period["end"], size="1",
                         id="generate-end", aria_label="period end (UTC)"),
                rx.text("or newest", size="1"),
                rx.input(name="last", type="number", min=1, max=744, default_value="24", size="1", width="5em",
                         id="generate-last", aria_label="newest N windows"),
                rx.text("source", size="1"),
                rx.select(G.sources, name="source", default_value="any", size="1", id="generate-source"),
                rx.cond(array(G.clusters).length() > 1, rx.hstack(
                    rx.text("cluster", size="1"),
                    rx.select(G.clusters, name="cluster", default_value="all", size="1", id="generate-cluster"),
                    align="center", spacing="2")),
                rx.button(rx.cond(G.running, "Generating…", "Generate"), type="submit", size="1",
                          disabled=G.running, id="policy-generate"),
                wrap="wrap", align="center", spacing="2"),
            rx.text(G.available, size="1", color_scheme="gray", id="generate-available"),
            rx.cond(G.running, rx.hstack(
                rx.progress(value=G.progress, max=100, width="16em", id="generate-progress"),
                rx.text(G.progress, " % · ", G.progress_text, size="1", id="generate-progress-text"),
                rx.button("Cancel", size="1", color_scheme="red", variant="soft", type="button",
                          on_click=G.cancel, id="generate-cancel"),
                align="center")),
            spacing="1", width="100%"),
        on_submit=G.generate, reset_on_submit=False)


def _coverage() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading("Coverage", size="3"), rx.text(S.coverage_total, size="2", color_scheme="gray"),
                  align="center"),
        rx.cond(
            array(S.coverage).length() > 0,
            rx.box(chart(data=S.coverage_chart, id="coverage-chart"), width="100%"),
            rx.text(S.coverage_note, size="2", id="coverage-empty")),
        rx.cond(array(S.coverage).length() > 0, rx.text(S.coverage_note, size="1", color_scheme="gray",
                                                         id="coverage-note")),
        # a row per (cluster, namespace): `place` is `namespace`, or `cluster/namespace` outside `default`
        rx.foreach(S.coverage, lambda c: rx.text(c["place"], ": ", c["covered"], " of ", c["edges"], " edges (",
                                                 c["percent"], " %)", size="1", id="coverage-" + c["place"])),
        spacing="2", width="100%")


def _row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.hstack(
            rx.cond(row["cluster"] != "default", rx.badge(row["cluster"], variant="outline", title="cluster")),
            rx.text(row["namespace"], size="2"), align="center", spacing="1"), id="policy-place-" + row["id"]),
        rx.table.cell(rx.link(row["name"], on_click=event(PolicyDetailState.open_policy)(row["id"]), cursor="pointer")),
        rx.table.cell(row["version"]),
        rx.table.cell(policy_status_badge(row["status"])),
        rx.table.cell(rx.code(row["workload"], size="1")),
        rx.table.cell(rx.badge(row["proof"], color_scheme=rx.cond(row["exact"] == "yes", "grass", "amber"))),
        rx.table.cell(rx.hstack(rx.text(row["observed"], size="1"), rx.cond(
            row["brief"] != "", rx.tooltip(rx.badge("too short", color_scheme="amber"), content=row["brief"])),
            align="center"), id="policy-observed-" + row["id"]),
        rx.table.cell(row["notes"]),
        rx.table.cell(row["updated"]),
        rx.table.cell(rx.button("Review", size="1", variant="soft",
                                on_click=event(PolicyDetailState.open_policy)(row["id"]))),
        id="policy-" + row["id"],
    )


def _table() -> rx.Component:
    headers = ("Namespace", "Policy", "Version", "Status", "Workload", "Proof", "Learned from", "Notes", "Updated",
               "")
    return rx.cond(
        array(S.rows).length() > 0,
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                      rx.table.body(rx.foreach(S.rows, _row)), size="1", width="100%", id="policies-table"),
        rx.callout("No policies match. Generate them from a snapshot (analysts and above).", size="1",
                   id="policies-empty"))


@protected_page("/policies", "Policies", nav="Policies", order=60,
                on_load=[PoliciesState.load, GenerationState.load, PolicyDetailState.open_from_url])
def policies() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Policies", size="6"),
            rx.link("Readiness ›", href="/policies/readiness", size="2", id="policies-readiness-link"), rx.spacer(),
            rx.button("Download approved bundle", size="1", variant="outline", id="policies-bundle",
                      on_click=PolicyDownloadState.download_bundle),
            width="100%", align="center"),
        rx.cond(S.can_generate, _generate()),
        rx.cond(G.message != "", rx.callout(G.message, size="1", id="policies-message",
                                            color_scheme=rx.cond(G.message_error, "red", "blue"))),
        rx.cond((PolicyDetailState.notice != "") & ~PolicyDetailState.is_open,
                rx.callout(PolicyDetailState.notice, size="1", color_scheme="red", id="policy-not-found")),
        _filters(),
        _table(),
        rx.text(S.total, " version(s)", size="1", color_scheme="gray"),
        _coverage(),
        detail_panel(),
        spacing="3", width="100%",
    )
