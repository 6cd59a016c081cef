"""The Reports page: a period of UTC days, a format, a Markdown preview and a Download button."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard.components.labelled import stacked, stacked_choice
from dashboard.components.shell import protected_page
from jobs.engines.report.model import FORMATS
from state.reports import ReportsState

FORMAT_LABELS = {"pdf": "PDF", "md": "Markdown", "json": "JSON"}


def _day(label: str, name: str, value: Any, on_change: Any) -> rx.Component:
    return stacked(label, rx.input(type="date", id=f"report-{name}", value=value, on_change=on_change, width="11em"),
                   f"report-{name}")


@protected_page("/reports", "Reports", nav="Reports", order=65, on_load=[ReportsState.load])
def reports() -> rx.Component:
    return rx.vstack(
        rx.heading("Reports", size="6"),
        rx.text(
            "A period's summary, top incidents with their explanations, the service graph, new external peers and "
            "policy changes, as Markdown, JSON or PDF (also GET /api/v1/reports?from&to&format). Days are UTC.",
            size="2",
            color_scheme="gray",
        ),
        rx.hstack(
            _day("From (UTC day)", "from", ReportsState.start_day, ReportsState.set_start_day),
            _day("To (UTC day, included)", "to", ReportsState.end_day, ReportsState.set_end_day),
            stacked_choice("Format", {f: FORMAT_LABELS[f] for f in FORMATS}, value=ReportsState.report_format,
                           on_change=ReportsState.set_format, field_id="report-format"),
            rx.button(rx.icon("eye"), "Preview", variant="soft", on_click=ReportsState.preview, id="report-preview"),
            rx.button(rx.icon("download"), "Download", on_click=ReportsState.download, id="report-download"),
            align="end",
            wrap="wrap",
            spacing="3",
        ),
        rx.cond(
            ReportsState.message != "",
            rx.callout(ReportsState.message, size="1", id="reports-message",
                       color_scheme=rx.cond(ReportsState.is_error, "red", "blue")),
        ),
        rx.cond(
            ReportsState.preview_md != "",
            # the Markdown as text: incident and peer names come from flows, so nothing of it is rendered as HTML
            rx.el.pre(ReportsState.preview_md, id="report-markdown", white_space="pre-wrap", font_size="0.8em",
                      width="100%", padding="1em", border="1px solid var(--gray-a6)", border_radius="6px"),
        ),
        spacing="3",
        width="100%",
    )
