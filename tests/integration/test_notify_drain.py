"""The outbox drain against real receivers (issue 18's reliability goals, with a simulated clock: waiting rows are
made due instead of sleeping): syslog lines read back with pycef, Slack through 503s and 429s into one digest at
≤ 1 message/s, Jira down then up without a second issue, permanent 4xx shown, SSRF refused, tenants apart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pycef
import pytest
import sqlalchemy as sa

from jobs.engines.notify.messages import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_webhook
from jobs.tasks import notify
from models.db import session_scope
from models.notifications import NotificationDelivery
from models.queries import incidents as incident_queries
from models.queries import notifications as q
from models.settings import get_settings
from tests.builders import make_tenant
from tests.integration import test_incident_queries as incident_tests
from tests.integration.notify_receivers import HttpReceiver, syslog_receiver

pytestmark = pytest.mark.integration
row = incident_tests.row
ALLOWED = "127.0.0.1,hooks.slack.test,acme.atlassian.test,hooks.example.test"


@pytest.fixture
def allowed(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SG_NOTIFY_ALLOWED_HOSTS", ALLOWED)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


async def _integration(tenant_id: int, kind: str, config: dict, **extra: object) -> int:
    async with session_scope() as session:
        created, _ = await q.create_integration(
            session,
            tenant_id=tenant_id,
            actor="admin@t",
            kind=kind,
            name=f"{kind}-{len(config)}",
            min_severity="info",
            config=config,
            **extra,
        )  # type: ignore[arg-type]
    return int(created.id or 0)


async def _incidents(tenant_id: int, count: int, **changes: object) -> list[int]:
    rows = [row(f"scan|inbound|10.{i // 250}.{i % 250}.0/24|", **changes) for i in range(count)]
    async with session_scope() as session:
        return list((await incident_queries.upsert_incidents(session, tenant_id=tenant_id, rows=rows)).values())


async def _all(tenant_id: int) -> list[NotificationDelivery]:
    async with session_scope() as session:
        result = await session.exec(
            sa.select(NotificationDelivery)
            .where(  # type: ignore[call-overload]
                NotificationDelivery.tenant_id == tenant_id
            )
            .order_by(NotificationDelivery.id)
        )
        return [r[0] for r in result]


async def _wake(tenant_id: int) -> None:
    """The simulated clock: every waiting row is due now."""
    async with session_scope() as session:
        await session.exec(
            sa.update(NotificationDelivery)
            .where(  # type: ignore[call-overload]
                NotificationDelivery.tenant_id == tenant_id, NotificationDelivery.status == "pending"
            )
            .values(next_attempt_at=sa.func.current_timestamp())
        )


async def test_syslog_tcp_and_udp_lines_parse_back_with_pycef(allowed: str) -> None:
    a = (await make_tenant("alpha")).tenant_id
    async with syslog_receiver() as receiver:
        await _integration(a, "syslog", {"host": "127.0.0.1", "port": receiver.port, "transport": "tcp"})
        await _integration(
            a, "syslog", {"host": "127.0.0.1", "port": receiver.port, "transport": "udp", "format": "cef"}
        )
        ids = await _incidents(a, 3, severity="high")
        async with HttpReceiver().client() as client:
            counts = await notify.drain_tenant(client, tenant_id=a)
        for _ in range(50):
            if len(receiver.lines) >= 6:
                break
            await asyncio.sleep(0.02)
    assert counts == {"sent": 6, "retry": 0, "failed": 0, "skipped": 0, "digested": 0}
    assert len(receiver.lines) == 6
    parsed = [pycef.parse(line) for line in receiver.lines]
    assert sorted(int(p["incidentId"]) for p in parsed) == sorted(ids * 2)
    first = parsed[0]
    assert receiver.lines[0].startswith("<107>1 ")  # facility 13, severity error (our high)
    assert (first["DeviceVendor"], first["Severity"], first["cat"], first["act"]) == (
        "SecureGuard",
        "8",
        "scan",
        "open",
    )
    assert first["src"] == "198.51.100.7" and first["dst"] == "10.0.0.5" and first["dpt"] == "23"
    assert {r.status for r in await _all(a)} == {"sent"}


async def test_slack_outage_ends_in_one_digest_none_lost_none_twice(allowed: str) -> None:
    a = (await make_tenant("alpha")).tenant_id
    slack = await _integration(a, "slack", {"url": "https://hooks.slack.test/services/T/B/SECRETPART"})
    receiver = HttpReceiver(fail_with=[(503, {})] * 5 + [(429, {"Retry-After": "7"})])
    ids = await _incidents(a, 200)
    async with receiver.client() as client:
        for _ in range(8):
            await notify.drain_tenant(client, tenant_id=a)
            await _wake(a)
    rows = await _all(a)
    children = [r for r in rows if r.kind == "new"]
    digests = [r for r in rows if r.kind == "digest"]
    assert sorted(r.incident_id for r in children) == sorted(ids)
    assert {r.status for r in children} == {"sent"}
    sent_digests = [d for d in digests if d.status == "sent"]
    assert len(sent_digests) == 1 and {r.digest_id for r in children} == {sent_digests[0].id}
    assert len([d for d in digests if d.status == "failed"]) == 6
    assert "SECRETPART" not in json.dumps([d.last_error for d in digests])
    assert "HTTP 503: busy" in digests[0].last_error
    assert children[0].attempts == 7
    bodies = receiver.bodies("/services/T/B/SECRETPART")
    assert len(bodies) == 7 and bodies[-1]["text"] == "200 incidents in this minute"
    gaps = [b - a_ for a_, b in zip(receiver.times, receiver.times[1:], strict=False)]
    assert min(gaps) >= 1.0  # Slack: at most one message per second
    # an update of one incident after the digest goes on its own
    async with session_scope() as session:
        await incident_queries.upsert_incidents(
            session, tenant_id=a, rows=[row("scan|inbound|10.0.0.0/24|", severity="critical")]
        )
    async with receiver.client() as client:
        await notify.drain_integration(client, tenant_id=a, integration_id=slack)
    assert receiver.bodies("/services/T/B/SECRETPART")[-1]["text"].startswith("Update: [CRITICAL]")


async def test_jira_down_then_up_makes_one_issue_and_comments(allowed: str) -> None:
    a = (await make_tenant("alpha")).tenant_id
    jira = {
        "url": "https://acme.atlassian.test",
        "email": "sg@acme.test",
        "api_token": "JIRATOKEN",
        "project": "SEC",
        "issue_type": "Bug",
    }
    await _integration(a, "jira", jira)
    receiver = HttpReceiver(down=True)
    [incident] = await _incidents(a, 1, severity="medium")
    async with receiver.client() as client:
        await notify.drain_tenant(client, tenant_id=a)
        await _wake(a)
        # up, but the create's answer is lost: the issue exists and our row is still pending
        receiver.down = False
        receiver.fail_with = [(502, {})]
        await notify.drain_tenant(client, tenant_id=a)
        receiver.issues["SEC-1"] = {"labels": ["secureguard", f"secureguard-incident-{incident}"]}
        await _wake(a)
        await notify.drain_tenant(client, tenant_id=a)
        async with session_scope() as session:
            await incident_queries.upsert_incidents(session, tenant_id=a, rows=[row(severity="high")])
            await incident_queries.upsert_incidents(session, tenant_id=a, rows=[row(severity="critical")])
        await notify.drain_tenant(client, tenant_id=a)
    assert list(receiver.issues) == ["SEC-1"]
    rows = await _all(a)
    assert [(r.kind, r.status, r.external_ref) for r in rows] == [("new", "sent", "SEC-1"), ("update", "sent", "SEC-1")]
    assert len(receiver.comments["SEC-1"]) == 2  # the lost create's comment, and the update
    assert receiver.requests[0].headers["Authorization"].startswith("Basic ")


async def test_permanent_answer_fails_at_once_and_shows_it(allowed: str) -> None:
    a = (await make_tenant("alpha")).tenant_id
    await _integration(a, "slack", {"url": "https://hooks.slack.test/services/T/B/GONE"})
    await _incidents(a, 1)
    receiver = HttpReceiver(fail_with=[(404, {})])
    async with receiver.client() as client:
        await notify.drain_tenant(client, tenant_id=a)
        await _wake(a)
        await notify.drain_tenant(client, tenant_id=a)
    [delivery] = await _all(a)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, "HTTP 404: no")
    assert len(receiver.requests) == 1


async def test_private_receiver_refused_unless_allowed(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_NOTIFY_ALLOWED_HOSTS", "")
    get_settings.cache_clear()
    a = (await make_tenant("alpha")).tenant_id
    await _integration(a, "syslog", {"host": "127.0.0.1", "port": 6514})
    await _integration(a, "webhook", {"url": "https://localhost:8443/hook"})
    await _incidents(a, 1)
    receiver = HttpReceiver()
    async with receiver.client() as client:
        await notify.drain_tenant(client, tenant_id=a)
    rows = await _all(a)
    assert {r.status for r in rows} == {"failed"} and receiver.requests == []
    assert all("local or private address" in r.last_error and "SG_NOTIFY_ALLOWED_HOSTS" in r.last_error for r in rows)


async def test_webhook_is_signed_routing_skips_and_tenants_stay_apart(allowed: str) -> None:
    a, b = (await make_tenant("alpha")).tenant_id, (await make_tenant("bravo")).tenant_id
    async with session_scope() as session:
        _, secret = await q.create_integration(
            session,
            tenant_id=a,
            actor="x",
            kind="webhook",
            name="hook",
            min_severity="info",
            config={"url": "https://hooks.example.test/sg"},
            routing={"kinds": {"exclude": ["beacon"]}},
        )
    await _incidents(a, 1)
    async with session_scope() as session:
        await incident_queries.upsert_incidents(session, tenant_id=a, rows=[row("beacon|outbound|10.0.0.5|443/tcp")])
    await _incidents(b, 2)
    receiver = HttpReceiver()
    async with receiver.client() as client:
        assert await notify.drain_tenant(client, tenant_id=b) == {}
        await notify.drain_tenant(client, tenant_id=a)
    [request] = receiver.requests
    assert secret and verify_webhook(
        request.content,
        secret=secret,
        timestamp=int(request.headers[TIMESTAMP_HEADER]),
        signature=request.headers[SIGNATURE_HEADER],
        now=int(request.headers[TIMESTAMP_HEADER]),
    )
    statuses = sorted((r.status, r.last_error) for r in await _all(a))
    assert statuses == [("sent", ""), ("skipped", "kind beacon is excluded")]
    assert await _all(b) == []


async def test_splunk_hec_batches_with_its_token_through_a_503_burst(allowed: str) -> None:
    a = (await make_tenant("alpha")).tenant_id
    await _integration(
        a,
        "splunk_hec",
        {
            "url": "https://hooks.example.test:8088",
            "token": "HECTOKEN-1234",
            "index": "security",
            "sourcetype": "sg:incident",
        },
    )
    ids = await _incidents(a, 12, severity="high")
    receiver = HttpReceiver(fail_with=[(503, {}), (503, {})])
    async with receiver.client() as client:
        for _ in range(3):
            await notify.drain_tenant(client, tenant_id=a)
            await _wake(a)
    assert [r.url.path for r in receiver.requests] == ["/services/collector/event"] * 3
    last = receiver.requests[-1]
    assert last.headers["Authorization"] == "Splunk HECTOKEN-1234"
    events = [json.loads(line) for line in last.content.decode().splitlines()]
    assert sorted(e["event"]["incident_id"] for e in events) == sorted(ids)  # one batch, no digest for a SIEM
    assert {e["index"] for e in events} == {"security"} and {e["sourcetype"] for e in events} == {"sg:incident"}
    rows = await _all(a)
    assert {(r.status, r.attempts) for r in rows} == {("sent", 3)}


async def test_the_integration_template_becomes_the_message(allowed: str) -> None:
    a = (await make_tenant("alpha")).tenant_id
    async with syslog_receiver() as receiver:
        await _integration(a, "syslog", {"host": "127.0.0.1", "port": receiver.port},
                           template="{{ severity|upper }}: {{ kind }} of {{ entity }} = {{ events }} events")
        await _incidents(a, 1, severity="high")
        async with HttpReceiver().client() as client:
            await notify.drain_tenant(client, tenant_id=a)
        for _ in range(50):
            if receiver.lines:
                break
            await asyncio.sleep(0.02)
    parsed = pycef.parse(receiver.lines[0])
    assert parsed["msg"] == "HIGH: scan of 10.0.0.0/24 \\= 2 events"
