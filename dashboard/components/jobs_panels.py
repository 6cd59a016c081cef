"""Panels of the Jobs page: monitoring, run detail, snapshot build form, bulk retry confirmation."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import array, mapping
from dashboard.components.plots import chart
from models.ops import JOB_STATUSES
from state.jobs_control import JobsControlState
from state.jobs_metrics import JobsMetricsState


def metrics_panel() -> rx.Component:
    """Counts per period with success rate, duration percentiles, queue, workers, cron."""
    header = rx.table.row(*[rx.table.column_header_cell(h) for h in ("queued in", *JOB_STATUSES,
                                                                      "succeeded of finished")])
    return rx.card(rx.vstack(
        rx.hstack(rx.heading("Workers and queues", size="3"), rx.spacer(),
                  rx.button("Refresh", size="1", variant="soft", on_click=JobsMetricsState.load_metrics), width="100%"),
        rx.table.root(rx.table.header(header), rx.table.body(rx.foreach(
            JobsMetricsState.period_rows,
            lambda row: rx.table.row(rx.foreach(row, lambda cell: rx.table.cell(cell))))), size="1", id="jobs-metrics"),
        rx.text("Each row counts this tenant's runs queued in that period, by the status they have now; finished "
                "means succeeded, failed, cancelled or lost.", size="1", color_scheme="gray"),
        rx.hstack(
            rx.text("Your runs now: ", rx.text(JobsMetricsState.waiting, as_="span", weight="bold", id="runs-waiting")),
            rx.text("Queues, all tenants: ", rx.foreach(JobsMetricsState.queues, lambda q: rx.badge(
                q["queue"], ": ", q["due"], " due · ", q["deferred"], " deferred", variant="soft",
                id="queue-" + q["queue"])), id="queue-depth",
                    title="ARQ's queues in Redis, shared by every tenant. Due: waiting for a worker or running. "
                          "Deferred: retries waiting out their backoff, and cron entries queued for their time."),
            rx.text("Workers: ", rx.cond(
                array(JobsMetricsState.workers).length() > 0,
                rx.foreach(JobsMetricsState.workers, lambda w: rx.badge(
                    w["id"], " · ", w["queues"], " · ", w["last_seen"], color_scheme="grass", class_name="worker")),
                rx.badge("none alive: queued jobs wait", color_scheme="red")), id="workers"),
            spacing="4", wrap="wrap"),
        rx.text("Scheduled (next run): ", rx.foreach(JobsMetricsState.scheduled, lambda c: rx.badge(
            c["name"], " (", c["queue"], ") ", c["when"], variant="outline")), id="scheduled", size="2"),
        rx.grid(
            rx.box(rx.text("Runs finished per minute, last hour (UTC)", size="2", weight="bold"),
                   chart(data=JobsMetricsState.throughput, id="throughput-chart", use_resize_handler=True,
                         style={"width": "100%"}), min_width="0"),
            rx.box(rx.text("Duration of succeeded runs, last 7 days", size="2", weight="bold"),
                   chart(data=JobsMetricsState.durations, id="durations-chart", use_resize_handler=True,
                         style={"width": "100%"}), min_width="0"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%"),
        width="100%"), width="100%")


def build_form() -> rx.Component:
    """Trigger snapshot builds, or drift runs over built snapshots, for a range (validated on the server)."""
    return rx.form(rx.hstack(
        rx.select.root(rx.select.trigger(id="trigger-what"), rx.select.content(
            rx.select.item("Build snapshots", value="build"), rx.select.item("Run drift detection", value="drift")),
            name="what", default_value="build"),
        rx.input(name="window_start", placeholder="window start, e.g. 2024-04-19T00:00:00Z", id="build-start",
                 width="20em"),
        rx.input(name="window_end", placeholder="window end", id="build-end", width="20em"),
        rx.button("Queue", type="submit", id="trigger-build"),
        rx.cond(JobsControlState.build_error != "",
                rx.text(JobsControlState.build_error, color_scheme="red", size="2", id="build-error")),
        align="center", wrap="wrap"), on_submit=JobsControlState.trigger_build)


def lookup_form() -> rx.Component:
    """Find a run by number or ARQ job id."""
    return rx.form(rx.hstack(
        rx.input(name="lookup", placeholder="job id, e.g. 42 or build_snapshot:3:1713484800", id="job-lookup",
                 width="24em"),
        rx.button("Find", type="submit", variant="soft", id="job-lookup-go")), on_submit=JobsControlState.lookup)


def _field(label: str, key: str) -> rx.Component:
    return rx.hstack(rx.text(label, weight="bold", size="2", width="8em"),
                     rx.text(JobsControlState.detail[key], size="2", id=f"detail-{key}"))


def run_detail() -> rx.Component:
    """The open run: params, attempts with errors, progress, links; retry/cancel by role."""
    d = mapping(JobsControlState.detail)
    actions = rx.hstack(
        rx.cond(JobsControlState.can_retry & (d["retry_helps"] == "yes"),
                rx.button("Retry", on_click=JobsControlState.retry, id="detail-retry")),
        rx.cond(JobsControlState.can_cancel & ((d["status"] == "queued") | (d["status"] == "running")
                                               | (d["status"] == "retrying")),
                rx.button("Cancel", color_scheme="red", on_click=JobsControlState.cancel, id="detail-cancel")))
    return rx.cond(d.length() > 0, rx.card(rx.vstack(
        rx.hstack(rx.heading("Run #", d["id"], " · ", d["name"], size="3"), rx.spacer(),
                  rx.button("Close", size="1", variant="soft", on_click=JobsControlState.close_run, id="detail-close"),
                  width="100%"),
        *[_field(label, key) for label, key in (
            ("Status", "status"), ("Job id", "arq_job_id"), ("Triggered by", "triggered_by"), ("Retry of", "retry_of"),
            ("Params", "params"), ("Progress", "progress"), ("Attempts", "attempts"), ("Error", "error"),
            ("Produced", "links"))],
        rx.foreach(JobsControlState.attempts, lambda a: rx.text(
            "attempt ", a["attempt"], " at ", a["at"], ": ", a["error"], size="1", color_scheme="red")),
        rx.cond(d["advice"] != "", rx.callout(d["advice"], size="1", id="detail-advice", width="100%",
                                              color_scheme=rx.cond(d["retry_helps"] == "yes", "blue", "amber"))),
        actions, width="100%"), id="run-detail", width="100%"))


def bulk_retry() -> rx.Component:
    """Admins: retry all failed runs, after a confirmation naming how many."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Retry failed runs"),
            rx.alert_dialog.description("Retry ", JobsControlState.bulk_count, " failed runs? Runs that failed "
                                        "permanently are left out: another attempt would fail the same way.",
                                        id="bulk-question"),
            rx.hstack(rx.button("Cancel", variant="soft", on_click=JobsControlState.close_bulk),
                      rx.button("Retry them", on_click=JobsControlState.confirm_bulk_retry, id="bulk-confirm"),
                      justify="end")),
        open=JobsControlState.bulk_open)
