"""The outbox on PostgreSQL and SQLite: the incident upsert queues notices in its own transaction, once per
incident and integration, updates only when the incident got worse; claims lease rows; tenants stay apart."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from models.db import session_scope
from models.errors import Conflict, Invalid, NotFound
from models.notifications import Integration, NotificationDelivery
from models.ops import AuditLog
from models.queries import incidents as incident_queries
from models.queries import notification_outbox as outbox
from models.queries import notifications as q
from models.types import utcnow
from tests.builders import make_tenant
from tests.integration import test_incident_queries as incident_tests

pytestmark = pytest.mark.integration
# a fresh, migrated PostgreSQL or SQLite database per test, as the incident queries are tested
row = incident_tests.row
SLACK = {"url": "https://hooks.slack.com/services/T000/B000/XXXXSECRET"}


async def _integration(tenant_id: int, *, name: str = "ops", min_severity: str = "medium") -> int:
    async with session_scope() as session:
        created, _ = await q.create_integration(
            session,
            tenant_id=tenant_id,
            actor="admin@t",
            kind="slack",
            name=name,
            min_severity=min_severity,
            config=SLACK,
        )
    return int(created.id or 0)


async def _deliveries(tenant_id: int) -> list[NotificationDelivery]:
    async with session_scope() as session:
        query = select(NotificationDelivery).where(NotificationDelivery.tenant_id == tenant_id)
        return list(await session.exec(query.order_by(NotificationDelivery.id)))  # type: ignore[arg-type]


async def test_upsert_queues_once_then_updates_when_worse(db: str) -> None:
    a, b = (await make_tenant("alpha")).tenant_id, (await make_tenant("bravo")).tenant_id
    slack = await _integration(a)
    await _integration(a, name="critical only", min_severity="critical")
    scan = row()
    for _ in range(2):  # a re-fold of the same incident queues nothing more
        async with session_scope() as session:
            await incident_queries.upsert_incidents(session, tenant_id=a, rows=[scan])
    queued = await _deliveries(a)
    assert [(d.integration_id, d.kind, d.status) for d in queued] == [(slack, "new", "pending")]
    # still pending: a worse fold does not queue a second notice (the pending one reads the incident when sent)
    async with session_scope() as session:
        await incident_queries.upsert_incidents(session, tenant_id=a, rows=[replace(scan, severity="high")])
    assert len(await _deliveries(a)) == 1
    async with session_scope() as session:
        await outbox.settle(session, tenant_id=a, delivery_id=int(queued[0].id or 0), status="sent")
        await incident_queries.upsert_incidents(session, tenant_id=a, rows=[replace(scan, severity="high")])
        await incident_queries.upsert_incidents(session, tenant_id=a, rows=[replace(scan, severity="high", events=3)])
    kinds = [(d.kind, d.severity) for d in await _deliveries(a)]
    assert kinds == [("new", "medium"), ("update", "high")]
    assert await _deliveries(b) == []


async def test_a_failed_upsert_leaves_no_notice(db: str) -> None:
    a = (await make_tenant("alpha")).tenant_id
    await _integration(a)
    with pytest.raises(RuntimeError):
        async with session_scope() as session:
            await incident_queries.upsert_incidents(session, tenant_id=a, rows=[row()])
            raise RuntimeError("the fold fails after the upsert")
    assert await _deliveries(a) == []


async def test_claim_leases_rows_and_settle_schedules_retries(db: str) -> None:
    a = (await make_tenant("alpha")).tenant_id
    slack = await _integration(a)
    async with session_scope() as session:
        await incident_queries.upsert_incidents(session, tenant_id=a, rows=[row()])
    now = utcnow()
    async with session_scope() as session:
        assert await outbox.due_integration_ids(session, tenant_id=a, now=now) == [slack]
        claimed = await outbox.claim_due(session, tenant_id=a, integration_id=slack, now=now)
    assert [d.attempts for d in claimed] == [1]
    async with session_scope() as session:  # leased: not due again until the lease ends
        assert await outbox.claim_due(session, tenant_id=a, integration_id=slack, now=now) == []
        again = await outbox.claim_due(session, tenant_id=a, integration_id=slack, now=now + outbox.LEASE)
        assert [d.attempts for d in again] == [2]
        await outbox.settle(
            session,
            tenant_id=a,
            delivery_id=int(again[0].id or 0),
            status="pending",
            error="HTTP 503: busy",
            retry_at=now + timedelta(seconds=4),
        )
    async with session_scope() as session:
        assert await outbox.due_integration_ids(session, tenant_id=a, now=now + timedelta(seconds=3)) == []
        rows = await outbox.list_deliveries(session, tenant_id=a, integration_id=slack)
    assert rows[0].last_error == "HTTP 503: busy"


async def test_integrations_are_checked_sealed_audited_and_walled(db: str) -> None:
    a, b = (await make_tenant("alpha")).tenant_id, (await make_tenant("bravo")).tenant_id
    slack = await _integration(a)
    async with session_scope() as session:
        stored = await q.get_integration(session, tenant_id=a, integration_id=slack)
        assert "XXXXSECRET" not in stored.config_encrypted and stored.config == {}
        assert q.read_secrets(stored) == SLACK
        assert q.public(stored).secrets_set == ["url"]
        with pytest.raises(NotFound):
            await q.get_integration(session, tenant_id=b, integration_id=slack)
        hook, generated = await q.create_integration(
            session,
            tenant_id=a,
            actor="admin@t",
            kind="webhook",
            name="hook",
            min_severity="low",
            config={"url": "https://receiver.example.com/sg"},
        )
        assert generated and q.read_secrets(hook) == {"secret": generated}
        audits = list(await session.exec(select(AuditLog).where(AuditLog.tenant_id == a)))
    assert "XXXXSECRET" not in json.dumps([e.after for e in audits]) and generated not in json.dumps(
        [e.after for e in audits]
    )
    bad = [
        ("slack", {"url": "http://hooks.slack.com/x"}, "https://"),
        ("slack", {"url": "https://u:p@hooks.slack.com/x"}, "user name"),
        ("syslog", {"host": "siem", "port": 70000}, "1–65535"),
        ("syslog", {"host": "siem", "port": 514, "transport": "carrier-pigeon"}, "tcp, udp, tls"),
        ("jira", {"url": "https://x.atlassian.net"}, "config.email is required"),
        ("splunk_hec", {"url": "https://h", "token": "t", "colour": "red"}, "does not take colour"),
        ("teams", {}, "kind must be one of"),
    ]
    async with session_scope() as session:
        for kind, config, message in bad:
            with pytest.raises(Invalid, match=message):
                await q.create_integration(
                    session, tenant_id=a, actor="x", kind=kind, name=f"n-{kind}", min_severity="low", config=config
                )
        with pytest.raises(Conflict):
            await q.create_integration(
                session, tenant_id=a, actor="x", kind="slack", name="ops", min_severity="low", config=SLACK
            )
        changed = await q.update_integration(
            session,
            tenant_id=a,
            integration_id=slack,
            actor="x",
            changes={"config": {"url": ""}, "min_severity": "high"},
        )
        assert q.read_secrets(changed) == SLACK and changed.min_severity == "high"
        await q.delete_integration(session, tenant_id=a, integration_id=slack, actor="x")
        assert (await session.exec(select(Integration).where(Integration.id == slack))).first() is None
