"""The Jobs page: monitoring, the runs table (paged, filtered, live), run detail and controls."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import Row, array, event
from dashboard.components.jobs_panels import build_form, bulk_retry, lookup_form, metrics_panel, run_detail
from dashboard.components.shell import protected_page
from models.ops import JOB_STATUSES
from state.jobs import JobsState
from state.jobs_control import JobsControlState
from state.jobs_metrics import JobsMetricsState

STATUS_COLORS = {"queued": "gray", "running": "blue", "retrying": "orange", "succeeded": "grass",
                 "failed": "red", "cancelled": "gray", "lost": "red"}


def status_badge(status: rx.Var[str]) -> rx.Component:
    return rx.match(
        status,
        *[(name, rx.badge(name, color_scheme=color)) for name, color in STATUS_COLORS.items()],
        rx.badge(status),
    )


def _row(run: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(run["id"], on_click=event(JobsControlState.open_run)(run["id"]), class_name="job-open",
                              cursor="pointer")),
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
        rx.text("All runs of this tenant, by status now:", size="2", color_scheme="gray"),
        rx.foreach(JobsState.status_counts, lambda pair: rx.hstack(
            status_badge(pair[0]), rx.text(pair[1], weight="bold", id="count-" + pair[0]), spacing="1")),
        spacing="4", wrap="wrap",
    )


def _filters() -> rx.Component:
    return rx.hstack(
        rx.select(["all", *JOB_STATUSES], value=JobsState.filter_status, on_change=JobsState.set_filter_status,
                  id="filter-status"),
        rx.select(JobsState.names, value=JobsState.filter_name, on_change=JobsState.set_filter_name,
                  id="filter-name"),
        rx.input(placeholder="triggered by…", on_blur=JobsState.set_filter_trigger, id="filter-trigger"),
        rx.select.root(rx.select.trigger(id="filter-period"), rx.select.content(
            *[rx.select.item(label, value=value) for value, label in (
                ("all", "any time"), ("1h", "last hour"), ("24h", "last 24 h"), ("7d", "last 7 days"))]),
            value=JobsState.filter_period, on_change=JobsState.set_filter_period),
        rx.select.root(rx.select.trigger(id="sort-runs"), rx.select.content(
            *[rx.select.item(label, value=value) for value, label in (
                ("newest", "newest first"), ("oldest", "oldest first"), ("name", "by job name"),
                ("status", "by status"), ("attempts", "most attempts"))]),
            value=JobsState.sort, on_change=JobsState.set_sort),
        rx.spacer(),
        rx.button("‹", variant="soft", on_click=event(JobsState.turn_page)(-1), id="page-prev"),
        rx.text(JobsState.page_label, size="2", id="page-label"),
        rx.button("›", variant="soft", on_click=event(JobsState.turn_page)(1), id="page-next"),
        width="100%", align="center", wrap="wrap")


@protected_page("/jobs", "Jobs", nav="Jobs", order=50, on_load=[JobsState.load, JobsMetricsState.load_metrics,
                                                                    JobsControlState.open_from_url])
def jobs() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Jobs", size="6"),
            rx.spacer(),
            rx.cond(JobsState.can_trigger, rx.hstack(
                rx.button("Retry failed…", variant="soft", on_click=JobsControlState.ask_bulk_retry, id="bulk-retry"),
                rx.button(rx.icon("activity"), "Run ping", on_click=JobsState.trigger_ping, id="trigger-ping"))),
            width="100%", align="center",
        ),
        rx.cond(JobsState.notice != "", rx.callout(JobsState.notice, id="jobs-notice", size="1")),
        rx.cond(JobsControlState.message != "", rx.callout(JobsControlState.message, id="control-notice", size="1",
                                                           role="status")),
        _counts(),
        metrics_panel(),
        rx.cond(JobsControlState.can_retry, build_form()),
        lookup_form(),
        run_detail(),
        bulk_retry(),
        _filters(),
        rx.cond(
            array(JobsState.runs).length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "#", "Job", "Status", "Progress", "Attempts", "Triggered by", "Queued (UTC)", "Duration",
                    "Error")])),
                rx.table.body(rx.foreach(JobsState.runs, _row)),
                width="100%", size="1", id="jobs-table",
            ),
            rx.callout("No job runs yet. Jobs appear here as soon as they are queued.", id="jobs-empty"),
        ),
        spacing="4", width="100%",
    )
