"""Widgets of the Replay page that read a frame: its counts, the legend, the policies then in force and what they
would block."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import Row, array
from state.replay import ReplayState


def counts() -> rx.Component:
    """The window's drift events (all, then by severity), incidents, nodes and edges, changes since the last one."""
    return rx.hstack(
        rx.foreach(ReplayState.counts, lambda item: rx.badge(item[0], ": ", item[1], variant="surface", size="2")),
        wrap="wrap",
        spacing="2",
        id="replay-counts",
    )


def legend() -> rx.Component:
    """How to read the graph."""
    return rx.text(
        "Each node keeps its place for the whole period. Green lines: new since the previous window; red dashed: "
        "gone since; orange: carries drift events; grey: unchanged. Hover a line for its ports and volume.",
        size="1",
        color_scheme="gray",
        id="replay-legend",
    )


def _blocked_row(row: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(row["edge"])),
        rx.table.cell(row["flows"]),
        rx.table.cell(row["refused"]),
    )


def policies() -> rx.Component:
    """The policies approved at the window's end, judged against its flows."""
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("flow"),
                rx.table.column_header_cell("flows"),
                rx.table.column_header_cell("refused by (side: policy)"),
            )
        ),
        rx.table.body(rx.foreach(ReplayState.blocked, _blocked_row)),
        size="1",
        id="replay-blocked",
    )
    return rx.vstack(
        rx.heading("Policies at that time", size="3"),
        rx.text(ReplayState.policies_note, size="2", id="replay-policies"),
        rx.cond(
            array(ReplayState.blocked).length() > 0,
            rx.vstack(
                rx.text("The heaviest of them:", size="1", color_scheme="gray"), table, spacing="1", width="100%"
            ),
        ),
        width="100%",
        spacing="2",
        padding="0.8em",
        border="1px solid var(--gray-a5)",
        border_radius="8px",
    )
