"""`/api/v1/integrations` as the issue's contract has it: create answers an id and no secret, 422 says what is
wrong, the Test button's route sends to a real local syslog receiver and shows the delivery, another tenant sees
nothing, and only admins get in."""

from __future__ import annotations

import asyncio

import httpx
import pycef
import pytest

from models.settings import get_settings
from tests.builders import bearer, make_tenant
from tests.integration.notify_receivers import syslog_receiver

pytestmark = pytest.mark.integration
SLACK_URL = "https://hooks.slack.com/services/T0/B0/TOPSECRETPART"


async def test_create_read_patch_delete_never_show_secrets(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme", token_role="admin")
    created = await client.post(
        "/api/v1/integrations",
        headers=bearer(acme.token),
        json={"kind": "slack", "name": "secops", "min_severity": "high", "config": {"url": SLACK_URL}},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert isinstance(body["id"], int) and body["secrets_set"] == ["url"] and body["config"] == {}
    assert "TOPSECRETPART" not in created.text and body["signing_secret"] is None
    listed = await client.get("/api/v1/integrations", headers=bearer(acme.token))
    assert [i["name"] for i in listed.json()] == ["secops"] and "TOPSECRETPART" not in listed.text
    patched = await client.patch(
        f"/api/v1/integrations/{body['id']}",
        headers=bearer(acme.token),
        json={"min_severity": "critical", "routing": {"kinds": {"exclude": ["beacon"]}}},
    )
    assert patched.json()["min_severity"] == "critical" and patched.json()["secrets_set"] == ["url"]
    audit = await client.get("/api/v1/audit", headers=bearer(acme.token))
    assert "integration.create" in audit.text and "TOPSECRETPART" not in audit.text
    hook = await client.post(
        "/api/v1/integrations",
        headers=bearer(acme.token),
        json={
            "kind": "webhook",
            "name": "hook",
            "min_severity": "low",
            "config": {"url": "https://hooks.example.com/sg"},
        },
    )
    assert len(hook.json()["signing_secret"]) >= 40
    again = await client.get(f"/api/v1/integrations/{hook.json()['id']}", headers=bearer(acme.token))
    assert hook.json()["signing_secret"] not in again.text
    gone = await client.delete(f"/api/v1/integrations/{body['id']}", headers=bearer(acme.token))
    assert gone.status_code == 204
    assert (await client.get(f"/api/v1/integrations/{body['id']}", headers=bearer(acme.token))).status_code == 404


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"kind": "teams", "name": "x", "config": {}}, "kind must be one of"),
        (
            {"kind": "syslog", "name": "x", "config": {"host": "siem", "port": 514, "transport": "smtp"}},
            "tcp, udp, tls",
        ),
        ({"kind": "jira", "name": "x", "config": {"url": "https://a.atlassian.net"}}, "config.email is required"),
        (
            {"kind": "slack", "name": "x", "min_severity": "urgent", "config": {"url": SLACK_URL}},
            "min_severity must be",
        ),
        (
            {
                "kind": "slack",
                "name": "x",
                "config": {"url": SLACK_URL},
                "routing": {"quiet_hours": {"start": "22:00"}},
            },
            "both a start and an end",
        ),
        ({"kind": "slack", "name": "x", "config": {"url": SLACK_URL}, "template": "{{ nope }}"}, "'nope' is undefined"),
        ({"kind": "slack", "name": "x", "config": {"url": SLACK_URL}, "template": "{{ ''.__class__ }}"}, "unsafe"),
    ],
)
async def test_invalid_input_answers_422_with_the_reason(
    client: httpx.AsyncClient, payload: dict, message: str
) -> None:
    acme = await make_tenant("acme", token_role="admin")
    answer = await client.post("/api/v1/integrations", headers=bearer(acme.token), json=payload)
    assert answer.status_code == 422 and message in answer.json()["error"]["message"]


async def test_test_button_sends_to_a_local_syslog_and_shows_the_delivery(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme, other = await make_tenant("acme", token_role="admin"), await make_tenant("other", token_role="admin")
    async with syslog_receiver() as receiver:
        config = {"host": "127.0.0.1", "port": receiver.port, "transport": "tcp", "format": "cef"}
        created = (
            await client.post(
                "/api/v1/integrations",
                headers=bearer(acme.token),
                json={"kind": "syslog", "name": "siem", "min_severity": "info", "config": config},
            )
        ).json()
        refused = await client.post(f"/api/v1/integrations/{created['id']}/test", headers=bearer(acme.token))
        assert refused.json()["status"] == "failed" and "SG_NOTIFY_ALLOWED_HOSTS" in refused.json()["last_error"]
        monkeypatch.setenv("SG_NOTIFY_ALLOWED_HOSTS", "127.0.0.1")
        get_settings.cache_clear()
        sent = await client.post(f"/api/v1/integrations/{created['id']}/test", headers=bearer(acme.token))
        for _ in range(50):
            if receiver.lines:
                break
            await asyncio.sleep(0.02)
    assert sent.status_code == 200 and sent.json()["status"] == "sent" and sent.json()["latency_ms"] is not None
    parsed = pycef.parse(receiver.lines[0])
    assert parsed["cat"] == "test" and parsed["Severity"] == "1"
    deliveries = await client.get(f"/api/v1/integrations/{created['id']}/deliveries", headers=bearer(acme.token))
    assert [(d["kind"], d["status"]) for d in deliveries.json()] == [("test", "sent"), ("test", "failed")]
    for path in (f"/api/v1/integrations/{created['id']}", f"/api/v1/integrations/{created['id']}/deliveries"):
        assert (await client.get(path, headers=bearer(other.token))).status_code == 404
    assert (
        await client.post(f"/api/v1/integrations/{created['id']}/test", headers=bearer(other.token))
    ).status_code == 404
    assert (await client.get("/api/v1/integrations", headers=bearer(other.token))).json() == []
