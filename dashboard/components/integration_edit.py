"""The Edit dialog of an integration: its settings filled, secrets left empty ("unchanged" unless re-entered),
routing (quiet hours, namespaces and kinds in or out) and template; saved like PATCH, audited."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import Row, mapping
from models.drift import SEVERITIES
from state.integrations import IntegrationsState


def _input(label: str, name: str, *, width: str = "16em", placeholder: str = "") -> rx.Component:
    values = mapping(IntegrationsState.edit_values)
    return rx.vstack(
        rx.text(label, as_="label", html_for=f"edit-{name}", size="1", weight="medium"),
        rx.input(name=name, id=f"edit-{name}", default_value=values[name].to(str), width=width,
                 placeholder=placeholder),
        spacing="1",
    )


def _config_field(field: Row) -> rx.Component:
    return rx.vstack(
        rx.text(field["label"], as_="label", html_for="edit-" + field["name"], size="1", weight="medium"),
        rx.input(
            name=field["name"],
            id="edit-" + field["name"],
            default_value=field["value"],
            placeholder=field["placeholder"],
            type=rx.cond(field["secret"] != "", "password", "text"),
            width="22em",
        ),
        spacing="1",
    )


def _head() -> rx.Component:
    values = mapping(IntegrationsState.edit_values)
    return rx.hstack(
        _input("Name", "name", width="14em"),
        rx.vstack(
            rx.text("Minimum severity", as_="label", html_for="edit-min-severity", size="1",
                    weight="medium"),
            rx.select(list(reversed(SEVERITIES)), name="min_severity", id="edit-min-severity",
                      default_value=values["min_severity"].to(str)),
            spacing="1",
        ),
        rx.hstack(
            rx.checkbox(name="enabled", id="edit-enabled",
                        default_checked=values["enabled"].to(str) == "on"),
            rx.text("Enabled", as_="label", html_for="edit-enabled", size="2"),
            align="center",
        ),
        wrap="wrap",
        align="end",
    )


def integration_edit() -> rx.Component:
    """The dialog, open while an integration is being edited."""
    values = mapping(IntegrationsState.edit_values)
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Edit integration"),
            rx.dialog.description(
                "Secrets are never shown: leave a secret empty to keep it, or type a new one to replace it.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    _head(),
                    rx.hstack(rx.foreach(IntegrationsState.edit_fields, _config_field), wrap="wrap"),
                    rx.hstack(
                        _input("Quiet from (UTC)", "quiet_start", width="8em", placeholder="22:00"),
                        _input("Quiet until", "quiet_end", width="8em", placeholder="07:00"),
                        _input("Only namespaces (comma-separated)", "namespaces_include", placeholder="payments, shop"),
                        _input("Never namespaces", "namespaces_exclude", placeholder="kube-system"),
                        _input("Only kinds", "kinds_include", placeholder="scan, new_external"),
                        _input("Never kinds", "kinds_exclude", placeholder="beacon"),
                        wrap="wrap",
                    ),
                    rx.vstack(
                        rx.text("Message template (optional, Jinja2)", as_="label", html_for="edit-template",
                                size="1", weight="medium"),
                        rx.text_area(name="template", id="edit-template", rows="3", width="34em",
                                     default_value=values["template"].to(str)),
                        spacing="1",
                    ),
                    rx.hstack(
                        rx.button("Cancel", type="button", variant="soft", on_click=IntegrationsState.cancel_edit),
                        rx.button("Save", type="submit", id="integration-save-edit"),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=IntegrationsState.save_edit,
                key=IntegrationsState.editing,  # a new form per integration, so its defaults are that one's
            ),
            max_width="60em",
        ),
        open=IntegrationsState.editing != "",
    )
