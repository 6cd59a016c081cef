"""The Sources page: drop flow files, see what was accepted or rejected, the snapshots, API tokens."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.vars import ObjectVar

from dashboard.components.bindings import array, event
from dashboard.components.shell import protected_page
from dashboard.components.tokens import tokens_card
from jobs.engines.flows.formats import FORMAT_NAMES, titles
from state.sources import UPLOAD_ID, SourcesState
from state.tokens import TokensState

STATUS_COLORS = {"received": "gray", "ingested": "grass", "rejected": "red", "failed": "orange"}


def _upload_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Upload flow files", size="4"),
            rx.text(f"{titles()}; gzip is fine. Each file is parsed by a worker and turned into per-window snapshots.",
                    size="2", color_scheme="gray"),
            rx.upload(
                rx.vstack(rx.icon("upload", size=28), rx.text("Drop flow files here, or click to choose"),
                          rx.foreach(rx.selected_files(UPLOAD_ID), lambda f: rx.badge(f, variant="surface")),
                          align="center", spacing="2"),
                id=UPLOAD_ID, multiple=True, border="2px dashed var(--gray-a7)", border_radius="8px",
                padding="1.5em", width="100%",
            ),
            rx.hstack(
                rx.text("Format", size="2"),
                rx.select(list(FORMAT_NAMES), value=SourcesState.upload_format,
                          on_change=SourcesState.set_upload_format, id="upload-format"),
                rx.spacer(),
                rx.button(rx.icon("send"), "Upload", id="upload-button", loading=SourcesState.uploading,
                          on_click=event(SourcesState.handle_upload)(rx.upload_files(
                              upload_id=UPLOAD_ID, on_upload_progress=event(SourcesState.upload_progress)))),
                width="100%", align="center",
            ),
            rx.cond(SourcesState.uploading, rx.progress(value=SourcesState.upload_percent, width="100%")),
            rx.cond(SourcesState.upload_message != "",
                    rx.callout(SourcesState.upload_message, id="upload-message", size="1",
                               color_scheme=rx.cond(SourcesState.upload_error, "red", "blue"))),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def _upload_row(row: ObjectVar[dict[str, Any]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["id"]),
        rx.table.cell(row["filename"]),
        rx.table.cell(row["format"]),
        rx.table.cell(rx.match(row["status"], *[(k, rx.badge(k, color_scheme=v)) for k, v in STATUS_COLORS.items()],
                               rx.badge(row["status"])), class_name="upload-status"),
        rx.table.cell(row["accepted"], class_name="upload-accepted"),
        rx.table.cell(row["rejected"], class_name="upload-rejected"),
        rx.table.cell(rx.vstack(rx.text(row["skipped"], size="2"),
                                rx.foreach(row["skip_reasons"].to(list[str]),
                                           lambda why: rx.text(why, size="1", color_scheme="gray")),
                                spacing="0"), class_name="upload-skipped"),
        rx.table.cell(rx.vstack(rx.text(row["reason"], size="1", color_scheme="red"),
                                rx.foreach(row["errors"].to(list[str]), lambda e: rx.code(e, size="1")),
                                spacing="1"), class_name="upload-errors"),
        rx.table.cell(row["when"]),
        id="upload-" + row["id"].to(str),
    )


def _uploads() -> rx.Component:
    headers = ("#", "File", "Format", "Status", "Accepted", "Bad lines", "Skipped (why)", "Reason / first bad lines",
               "When")
    return rx.cond(
        array(SourcesState.uploads).length() > 0,
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                      rx.table.body(rx.foreach(SourcesState.uploads, _upload_row)), size="1", width="100%",
                      id="uploads-table"),
        rx.callout("No uploads yet. Drop a flow file above, push one to POST /api/v1/flows, or run sg ingest.",
                   id="uploads-empty", size="1"),
    )


def _snapshots() -> rx.Component:
    headers = ("#", "Window (UTC)", "Source", "Nodes", "Edges", "Status")
    return rx.cond(
        array(SourcesState.snapshots).length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(SourcesState.snapshots, lambda s: rx.table.row(
                rx.table.cell(s["id"]), rx.table.cell(s["window"]), rx.table.cell(s["source"]),
                rx.table.cell(s["nodes"]), rx.table.cell(s["edges"]), rx.table.cell(rx.badge(s["status"])),
                id="snapshot-" + s["id"]))),
            size="1", width="100%", id="snapshots-table",
        ),
        rx.callout("No snapshots yet: they appear here, live, as uploaded flows are parsed.", id="snapshots-empty",
                   size="1"),
    )


@protected_page("/sources", "Sources", nav="Sources", order=40,
                on_load=[SourcesState.load])
def sources() -> rx.Component:
    return rx.vstack(
        rx.heading("Sources", size="6"),
        rx.cond(SourcesState.can_upload, _upload_card()),
        rx.heading("Recent uploads", size="4"),
        _uploads(),
        rx.hstack(rx.heading("Snapshots", size="4"), rx.badge(SourcesState.snapshot_total, id="snapshot-total"),
                  rx.spacer(), rx.text("Window", size="2"),
                  rx.select(SourcesState.window_choices, value=SourcesState.window, on_change=SourcesState.set_window,
                            disabled=~TokensState.can_manage_tokens, id="window-select", size="1"),
                  align="center", width="100%"),
        _snapshots(),
        rx.cond(TokensState.can_manage_tokens, tokens_card()),
        spacing="4", width="100%",
    )
