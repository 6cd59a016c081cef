"""The Jobs page: counts, the newest runs with live status, and the diagnostic ping."""

from __future__ import annotations

import reflex as rx

from dashboard.components.shell import protected_page
from state.jobs import JobsState

STATUS_COLORS = {"queued": "gray", "running": "blue", "retrying": "orange", "succeeded": "grass",
                 "failed": "red", "cancelled": "gray", "lost": "red"}


def status_badge(status: rx.Var[str]) -> rx.Component:
    return rx.match(
        status,
        *[(name, rx.badge(name, color_scheme=color)) for name, color in STATUS_COLORS.items()],
        rx.badge(status),
    )


def _row(run: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(run["id"]),
        rx.table.cell(run["name"]),
        rx.table.cell(status_badge(run["status"]), class_name="job-status"),
        rx.table.cell(run["progress"], " ", rx.text(run["message"], as_="span", size="1", color_scheme="gray")),
        rx.table.cell(run["attempts"]),
        rx.table.cell(run["triggered_by"]),
        rx.table.cell(run["enqueued_at"]),
        rx.table.cell(run["duration"]),
        rx.table.cell(rx.text(run["error"], size="1", color_scheme="red")),
        id="job-" + run["id"],
    )


def _counts() -> rx.Component:
    return rx.hstack(
        rx.foreach(JobsState.status_counts, lambda pair: rx.hstack(
            status_badge(pair[0]), rx.text(pair[1], weight="bold", id="count-" + pair[0]), spacing="1")),
        spacing="4", wrap="wrap",
    )


@protected_page("/jobs", "Jobs", on_load=[JobsState.load])
def jobs() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Jobs", size="6"),
            rx.spacer(),
            rx.cond(JobsState.can_trigger,
                    rx.button(rx.icon("activity"), "Run ping", on_click=JobsState.trigger_ping, id="trigger-ping")),
            width="100%", align="center",
        ),
        rx.cond(JobsState.notice != "", rx.callout(JobsState.notice, id="jobs-notice", size="1")),
        _counts(),
        rx.cond(
            JobsState.runs.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "#", "Job", "Status", "Progress", "Attempts", "Triggered by", "Queued", "Duration", "Error")])),
                rx.table.body(rx.foreach(JobsState.runs, _row)),
                width="100%", size="1", id="jobs-table",
            ),
            rx.callout("No job runs yet. Jobs appear here as soon as they are queued.", id="jobs-empty"),
        ),
        spacing="4", width="100%",
    )
