"""The scheduled report digest setting: off, daily or weekly, at an hour (UTC)."""

from __future__ import annotations

import reflex as rx

from jobs.engines.report.schedule import MODES
from state.report_digest import ReportDigestState


def report_digest_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.vstack(
                rx.text("Report digest to every enabled integration", as_="label", html_for="digest-mode", size="1",
                        weight="medium"),
                rx.select.root(
                    rx.select.trigger(id="digest-mode"),
                    rx.select.content(*[rx.select.item(m.capitalize(), value=m) for m in MODES]),
                    value=ReportDigestState.digest_mode,
                    on_change=ReportDigestState.set_digest_mode,
                ),
                spacing="1",
            ),
            rx.vstack(
                rx.text("Hour (UTC, 0–23)", as_="label", html_for="digest-hour", size="1", weight="medium"),
                rx.input(name="hour", id="digest-hour", default_value=ReportDigestState.digest_hour, width="6em",
                         key=ReportDigestState.digest_hour),
                spacing="1",
            ),
            rx.button("Save schedule", type="submit", variant="soft", id="digest-save"),
            rx.cond(
                ReportDigestState.digest_message != "",
                rx.text(ReportDigestState.digest_message, size="2", id="digest-message",
                        color_scheme=rx.cond(ReportDigestState.digest_error, "red", "gray")),
            ),
            align="end",
            wrap="wrap",
            spacing="3",
        ),
        on_submit=ReportDigestState.save_digest,
    )
