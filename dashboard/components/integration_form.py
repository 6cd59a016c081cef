"""The add-integration form: the fields follow the chosen kind, each with a label; secrets are password inputs."""

from __future__ import annotations

import reflex as rx

from dashboard.components.labelled import stacked, stacked_choice
from models.drift import SEVERITIES
from models.notifications import INTEGRATION_KINDS
from state.integrations import IntegrationsState

KIND_LABELS = {
    "slack": "Slack (incoming webhook)",
    "jira": "Jira Cloud",
    "syslog": "Syslog (CEF)",
    "splunk_hec": "Splunk HEC",
    "webhook": "Signed webhook",
}


def _field(
    label: str, name: str, *, placeholder: str = "", secret: bool = False, required: bool = True, width: str = "22em"
) -> rx.Component:
    return stacked(label, rx.input(
        name=name,
        id=f"integration-{name}",
        placeholder=placeholder,
        required=required,
        type="password" if secret else "text",
        width=width,
    ), f"integration-{name}")


def _kind_fields() -> rx.Component:
    return rx.match(
        IntegrationsState.kind,
        (
            "slack",
            _field("Webhook URL (kept secret)", "url", placeholder="https://hooks.slack.com/services/…", secret=True),
        ),
        (
            "webhook",
            rx.hstack(
                _field("URL", "url", placeholder="https://receiver.example.com/secureguard"),
                _field("Signing secret (empty: one is made and shown once)", "secret", secret=True, required=False),
                wrap="wrap",
            ),
        ),
        (
            "splunk_hec",
            rx.hstack(
                _field("HEC URL", "url", placeholder="https://splunk.example.com:8088"),
                _field("HEC token", "token", secret=True),
                _field("Index", "index", required=False, width="10em"),
                _field("Source type", "sourcetype", required=False, width="14em"),
                wrap="wrap",
            ),
        ),
        (
            "jira",
            rx.hstack(
                _field("Site URL", "url", placeholder="https://acme.atlassian.net"),
                _field("Account email", "email", placeholder="secops@acme.example"),
                _field("API token", "api_token", secret=True),
                _field("Project key", "project", placeholder="SEC", width="8em"),
                _field("Issue type", "issue_type", placeholder="Bug", width="10em"),
                wrap="wrap",
            ),
        ),
        (
            "syslog",
            rx.hstack(
                _field("Host", "host", placeholder="siem.example.com"),
                _field("Port", "port", placeholder="6514", width="7em"),
                stacked("Transport", rx.select(["tcp", "tls", "udp"], name="transport", default_value="tcp",
                                               id="integration-transport"), "integration-transport"),
                wrap="wrap",
            ),
        ),
        rx.fragment(),
    )


def _template() -> rx.Component:
    return rx.hstack(
        stacked(
            "Message template (optional, Jinja2; names: title, severity, kind, entity, summary, explanation, "
            "reasons, events, url…)",
            rx.text_area(
                name="template",
                id="integration-template",
                rows="3",
                width="34em",
                placeholder="{{ severity|upper }}: {{ kind }} of {{ entity }} — {{ url }}",
                on_change=IntegrationsState.set_template,
            ),
            "integration-template",
        ),
        rx.cond(
            IntegrationsState.template_preview != "",
            rx.vstack(
                rx.text("Preview (a sample incident)", size="1", weight="medium"),
                rx.code(
                    IntegrationsState.template_preview,
                    id="integration-template-preview",
                    white_space="pre-wrap",
                    max_width="34em",
                ),
                spacing="1",
            ),
        ),
        wrap="wrap",
        align="start",
    )


def integration_form() -> rx.Component:
    """Kind, name, minimum severity, the kind's settings and optional quiet hours (UTC)."""
    return rx.form(
        rx.vstack(
            rx.hstack(
                stacked_choice("Kind", {k: KIND_LABELS[k] for k in INTEGRATION_KINDS}, value=IntegrationsState.kind,
                               on_change=IntegrationsState.set_kind, field_id="integration-kind"),
                _field("Name", "name", placeholder="secops channel", width="14em"),
                stacked("Minimum severity", rx.select(list(reversed(SEVERITIES)), name="min_severity",
                                                      default_value="high", id="integration-min-severity"),
                        "integration-min-severity"),
                _field("Quiet from (UTC, optional)", "quiet_start", placeholder="22:00", required=False, width="8em"),
                _field("Quiet until", "quiet_end", placeholder="07:00", required=False, width="8em"),
                wrap="wrap",
                align="end",
            ),
            _kind_fields(),
            _template(),
            rx.button(rx.icon("plus"), "Add integration", type="submit", id="integration-add"),
            spacing="3",
        ),
        on_submit=IntegrationsState.add,
        reset_on_submit=True,
    )
