"""The Settings page (admins): what the tenant calls home, i.e. its networks, its sensors and the private ranges."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import array, mapping
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


_POLICY_FIELDS = (
    ("readiness_days", "Days in monitor before enforce", "0–90 days with the namespace in monitor (default 7)."),
    ("readiness_max_open", "Open violations allowed at enforce", "0–1000 unexplained violations (default 0)."),
    ("policy_min_observation_hours", "Minimum observation span of a policy",
     "1–2160 hours of observed flows; a generated policy seen for less carries a warning (default 24)."),
)


def _number_field(name: str, label: str, hint: str) -> rx.Component:
    field_id = f"settings-{name.replace('_', '-')}"
    problem = mapping(SettingsState.policy_problems).get(name, "")
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium", as_="span"), html_for=field_id),
        rx.input(name=name, id=field_id, type="number", width="8em",
                 default_value=mapping(SettingsState.policy_values).get(name, ""),
                 custom_attrs={"aria-describedby": f"{field_id}-hint"}),
        rx.text(hint, size="1", color_scheme="gray", id=f"{field_id}-hint"),
        rx.cond(problem != "", rx.text(problem, size="1", color_scheme="red", role="alert")),
        spacing="1",
    )


def _policies_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Policies", size="4"),
        rx.text("Monitor mode's readiness rule (Policies › Readiness): a namespace may be enforced once it has been "
                "in monitor this long with at most this many open violations.", size="2", color_scheme="gray"),
        rx.form(rx.vstack(
            rx.hstack(*[_number_field(*field) for field in _POLICY_FIELDS], spacing="4", wrap="wrap"),
            rx.button(rx.icon("save"), "Save", type="submit", id="settings-policies-save"),
            spacing="3"), on_submit=SettingsState.save_policies, reset_on_submit=False,
            key=SettingsState.form_key),
        rx.cond(SettingsState.policy_message != "",
                rx.callout(SettingsState.policy_message, size="1", id="settings-policies-message", role="status",
                           color_scheme=rx.cond(mapping(SettingsState.policy_problems).length() > 0, "red", "grass"))),
        spacing="3", width="100%"), width="100%")


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
        _policies_card(),
        rx.text("Only admins change these settings; every change is in the audit log with its before and after.",
                size="1", color_scheme="gray"),
        spacing="3", width="100%",
    ))
