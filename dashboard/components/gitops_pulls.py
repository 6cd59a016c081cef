"""The table of pull/merge requests opened for approved policies, with their state and links."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import Row, array, event
from state.gitops import GitopsState
from state.policy_downloads import PolicyDownloadState

STATE_COLORS = {"open": "blue", "merged": "grass", "closed": "gray"}


def _row(pull: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(pull["policy"]),
        rx.table.cell(pull["version"]),
        rx.table.cell(rx.link(pull["number"], href=pull["url"], is_external=True), class_name="pull-link"),
        rx.table.cell(rx.match(pull["state"], *[(k, rx.badge(k, color_scheme=v)) for k, v in STATE_COLORS.items()],
                               rx.badge(pull["state"])), class_name="pull-state"),
        rx.table.cell(rx.code(pull["branch"], size="1")),
        rx.table.cell(rx.badge(pull["policy_status"], variant="surface"), class_name="pull-policy-status"),
        rx.table.cell(pull["updated"]),
        rx.table.cell(rx.icon_button(rx.icon("download", size=14), size="1", variant="ghost", title="Download YAML",
                                     on_click=event(PolicyDownloadState.download_policy)(pull["policy_id"]),
                                     class_name="pull-download")),
        id="pull-" + pull["id"].to(str),
    )


def pulls_table() -> rx.Component:
    """Newest first; an empty state that says how requests appear."""
    headers = ("Policy", "Version", "Request", "State", "Branch", "Policy status", "Updated (UTC)", "YAML")
    return rx.cond(
        array(GitopsState.pulls).length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(GitopsState.pulls, _row)), size="1", width="100%", id="pulls-table",
        ),
        rx.callout("No pull requests yet. Each approved policy is committed on its own branch and proposed here; "
                   "merged requests mark their policy deployed.", id="pulls-empty", size="1"),
    )
