"""The Integrations page's Edit form: filled from the integration without a secret's value, and the routing rebuilt
from the form over the stored one (keys left empty go, others stay)."""

from __future__ import annotations

from models.notifications import Integration
from models.public.notifications import IntegrationPublic
from state.integration_edit import UNCHANGED, edit_fields, edit_values, routing_from_form
from state.integrations import FIELDS


def _jira() -> IntegrationPublic:
    row = Integration(id=4, tenant_id=1, kind="jira", name="tickets", min_severity="medium", enabled=False,
                      config={"url": "https://acme.atlassian.net", "email": "sg@acme", "project": "SEC",
                              "issue_type": "Bug"},
                      routing={"quiet_hours": {"start": "22:00", "end": "07:00"}, "timezone": "Europe/Paris",
                               "namespaces": {"include": ["payments", "shop"], "exclude": []}},
                      template="{{ title }}")
    return IntegrationPublic.of(row, secrets_set=["api_token"])


def test_fields_are_filled_but_a_secret_never() -> None:
    fields = {f["name"]: f for f in edit_fields(_jira(), FIELDS["jira"])}
    assert list(fields) == ["url", "email", "api_token", "project", "issue_type"]
    assert fields["project"]["value"] == "SEC" and fields["project"]["secret"] == ""
    token = fields["api_token"]
    assert token["value"] == "" and token["secret"] == "1" and token["placeholder"] == UNCHANGED
    values = edit_values(_jira())
    assert values["namespaces_include"] == "payments, shop" and values["quiet_start"] == "22:00"
    assert values["enabled"] == "" and values["template"] == "{{ title }}"


def test_routing_from_the_form_keeps_what_the_form_does_not_show() -> None:
    stored = _jira().routing
    routing = routing_from_form(stored, {"quiet_start": "", "quiet_end": "", "namespaces_include": "",
                                         "namespaces_exclude": "kube-system, dev", "kinds_include": "scan"})
    assert routing == {"timezone": "Europe/Paris", "namespaces": {"include": [], "exclude": ["kube-system", "dev"]},
                       "kinds": {"include": ["scan"], "exclude": []}}
    assert stored["quiet_hours"] == {"start": "22:00", "end": "07:00"}  # the stored one is not changed in place
