"""Widgets of the Replay page that choose what is shown: the period form and the player (buttons, speed, slider)."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import array, event
from jobs.engines.replay.period import SPEEDS
from state.replay import ALL_SOURCES, ReplayState

FIELD_STYLE = {"padding": "0.3em", "border": "1px solid var(--gray-a7)", "borderRadius": "6px"}


def _label(text: str, field_id: str) -> rx.Component:
    return rx.el.label(text, html_for=field_id, style={"fontSize": "var(--font-size-1)", "color": "var(--gray-11)"})


def _moment_field(name: str, text: str, value: rx.Var[str] | str) -> rx.Component:
    field_id = f"replay-{name}"
    # keyed on the value: the field shows what the state chose (URL, defaults) without a handler per keystroke
    return rx.vstack(
        _label(text, field_id),
        rx.input(
            name=name,
            id=field_id,
            default_value=value,
            key=value,
            width="11em",
            size="2",
            placeholder="YYYY-MM-DD HH:MM",
        ),
        spacing="1",
    )


def period_form() -> rx.Component:
    """From, To (UTC) and the source; Show opens the period's first window."""
    sources = rx.foreach(ReplayState.sources, lambda s: rx.el.option(rx.cond(s == "", "(none)", s), value=s))
    return rx.form(
        rx.hstack(
            _moment_field("from", "From (UTC)", ReplayState.period_from),
            _moment_field("to", "To (UTC)", ReplayState.period_to),
            rx.cond(
                array(ReplayState.sources).length() > 1,
                rx.vstack(
                    _label("Source", "replay-source"),
                    rx.el.select(
                        rx.el.option("all sources", value=ALL_SOURCES),
                        sources,
                        name="source",
                        id="replay-source",
                        default_value=ReplayState.source,
                        key=ReplayState.source,
                        style=FIELD_STYLE,
                    ),
                    spacing="1",
                ),
            ),
            rx.button(rx.icon("history", size=14), "Show period", type="submit", id="replay-apply"),
            align="end",
            spacing="4",
            wrap="wrap",
        ),
        on_submit=ReplayState.apply_period,
        reset_on_submit=False,
        id="replay-period",
    )


def _speed() -> rx.Component:
    return rx.hstack(
        _label("Speed", "replay-speed"),
        rx.el.select(
            *[rx.el.option(f"{s}×", value=str(s)) for s in SPEEDS],
            value=ReplayState.speed,
            on_change=ReplayState.set_speed,
            id="replay-speed",
            style=FIELD_STYLE,
        ),
        align="center",
        spacing="2",
    )


def _buttons() -> rx.Component:
    at_start, at_end = ReplayState.frame <= 1, ReplayState.frame >= ReplayState.frame_count
    return rx.hstack(
        rx.button(
            rx.icon("step-back", size=16),
            "Back",
            variant="soft",
            id="replay-prev",
            disabled=at_start,
            on_click=event(ReplayState.step)(-1),
            title="Previous window (←)",
        ),
        rx.button(
            rx.cond(ReplayState.playing, rx.icon("pause", size=16), rx.icon("play", size=16)),
            rx.cond(ReplayState.playing, "Pause", "Play"),
            id="replay-play",
            on_click=ReplayState.toggle_play,
            title="Play or pause (space)",
            custom_attrs={"data-playing": ReplayState.playing},
        ),
        rx.button(
            "Forward",
            rx.icon("step-forward", size=16),
            variant="soft",
            id="replay-next",
            disabled=at_end,
            on_click=event(ReplayState.step)(1),
            title="Next window (→)",
        ),
        _speed(),
        spacing="3",
        align="center",
    )


def _clock() -> rx.Component:
    # mounted only while playing: one tick per frame at the chosen speed
    return rx.cond(
        ReplayState.playing,
        rx.box(
            rx.moment(interval=ReplayState.interval_ms, on_change=ReplayState.tick, format="HH:mm:ss"),
            display="none",
        ),
    )


def player() -> rx.Component:
    """Step back, play/pause, step forward, speed, the frame slider and where we are; keys: space, ← and →."""
    return rx.vstack(
        rx.hstack(
            _buttons(),
            rx.spacer(),
            rx.text(
                "Frame ",
                ReplayState.frame,
                " of ",
                ReplayState.frame_count,
                " · ",
                ReplayState.frame_label,
                weight="bold",
                id="replay-frame",
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        rx.slider(
            min=1,
            max=rx.cond(ReplayState.frame_count > 1, ReplayState.frame_count, 2),
            default_value=[ReplayState.frame],
            key=ReplayState.frame,
            step=1,
            on_value_commit=ReplayState.go_to,
            id="replay-slider",
            aria_label="Frame",
        ),
        rx.text("Keys: space plays or pauses, ← and → step one window.", size="1", color_scheme="gray"),
        _clock(),
        width="100%",
        spacing="2",
        id="replay-player",
    )
