"""Form fields with a label that is both seen and tied to the field (a click on it focuses the field, a screen
reader reads it, a test finds the field by it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import reflex as rx


def labelled(label: str, field: rx.Component, field_id: str) -> rx.Component:
    """A small grey label before `field` (whose id is `field_id`)."""
    return rx.hstack(rx.el.label(label, html_for=field_id, style={"font_size": "var(--font-size-1)",
                                                                  "color": "var(--gray-11)"}),
                     field, spacing="1", align="center")


def labelled_select(label: str, items: list[str], *, name: str, default: Any, field_id: str) -> rx.Component:
    """A select with its label (the trigger carries the label as its accessible name too)."""
    return labelled(label, rx.select(items, name=name, default_value=default, size="1", id=field_id,
                                     custom_attrs={"aria-label": label}), field_id)


def labelled_input(label: str, *, name: str, field_id: str, **props: Any) -> rx.Component:
    """An input with its label."""
    return labelled(label, rx.input(name=name, id=field_id, size="1", **props), field_id)


def stacked(label: str, field: rx.Component, field_id: str) -> rx.Component:
    """A label above `field` (whose id is `field_id`), as the Reports and integration forms lay out their rows."""
    return rx.vstack(rx.text(label, as_="label", html_for=field_id, size="1", weight="medium"), field, spacing="1")


def stacked_choice(label: str, choices: Mapping[str, str], *, value: Any, on_change: Any,
                   field_id: str) -> rx.Component:
    """A select whose value lives in the state (`choices`: value to shown text, in order), its label above."""
    return stacked(label, rx.select.root(
        rx.select.trigger(id=field_id),
        rx.select.content(*[rx.select.item(text, value=choice) for choice, text in choices.items()]),
        value=value,
        on_change=on_change,
    ), field_id)
