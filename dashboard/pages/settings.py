"""The Settings page (admins): what the tenant calls home, i.e. its networks, its sensors and the private ranges."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import array
from dashboard.components.shell import for_role, protected_page
from jobs.engines.detect.home import PRIVATE_NETWORKS
from models.tenancy import MAX_HOME_NETWORKS, MAX_SENSORS
from state.settings import SettingsState

_MONO = {"font_family": "var(--code-font-family)"}


def _problems(items: object, id_: str) -> rx.Component:
    return rx.cond(
        array(items).length() > 0,
        rx.vstack(rx.foreach(array(items), lambda p: rx.text(p, size="1", color_scheme="red")),
                  spacing="1", id=id_, role="alert"),
    )


def _lines_field(name: str, label: str, hint: str, value: object, problems: object, placeholder: str) -> rx.Component:
    field_id = f"settings-{name.replace('_', '-')}"
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium", as_="span"), html_for=field_id),
        rx.text_area(name=name, id=field_id, default_value=value, placeholder=placeholder, rows="7", width="100%",
                     style=_MONO, spell_check=False,
                     custom_attrs={"aria-describedby": f"{field_id}-hint {field_id}-problems"}),
        rx.text(hint, size="1", color_scheme="gray", id=f"{field_id}-hint"),
        _problems(problems, f"{field_id}-problems"),
        spacing="1", width="100%",
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                _lines_field("home_networks", "Home networks", f"One CIDR per line, at most {MAX_HOME_NETWORKS}: "
                             "the network address itself (10.20.0.0/16, not 10.20.0.1/16).",
                             SettingsState.networks_text, SettingsState.network_problems,
                             "203.0.113.0/24\n2001:db8:100::/48"),
                _lines_field("sensors", "Sensor addresses", f"One address per line, at most {MAX_SENSORS}: the "
                             "sensors' own addresses, home even when public.",
                             SettingsState.sensors_text, SettingsState.sensor_problems, "64.225.56.201"),
                spacing="4", width="100%", align="start",
            ),
            rx.checkbox("The private ranges count as home", name="home_private", id="settings-home-private",
                        default_checked=SettingsState.home_private),
            rx.text(f"Private ranges: {', '.join(PRIVATE_NETWORKS)}.", size="1", color_scheme="gray", style=_MONO),
            rx.button(rx.icon("save"), "Save", type="submit", id="settings-save"),
            spacing="3", width="100%",
        ),
        on_submit=SettingsState.save, reset_on_submit=False, key=SettingsState.form_key, width="100%",
    )


@protected_page("/settings", "Settings", nav="Settings", order=85, role="admin", on_load=[SettingsState.load])
def settings() -> rx.Component:
    return for_role("admin", rx.vstack(
        rx.heading("Settings", size="6"),
        rx.card(
            rx.vstack(
                rx.heading("Home networks", size="4"),
                rx.text("Home is what this tenant calls its own, like Zeek's Site::local_nets or RITA's internal "
                        "subnets: flows from home out are outbound, flows in are inbound, and an internet-facing "
                        "sensor's own public address is home too.", size="2", color_scheme="gray"),
                _form(),
                rx.cond(SettingsState.message != "",
                        rx.callout(SettingsState.message, size="1", id="settings-message", role="status",
                                   color_scheme=rx.cond(SettingsState.is_error, "red", "grass"))),
                spacing="3", width="100%",
            ),
            width="100%",
        ),
        rx.text("Only admins change these settings; every change is in the audit log with its before and after.",
                size="1", color_scheme="gray"),
        spacing="3", width="100%",
    ))
