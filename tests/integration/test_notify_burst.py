"""Issue 18's first reliability goal as written: a burst of 10,000 drift events, folded into incidents the way the
drift job folds them (events stored, findings made, incidents upserted with their outbox rows in one
transaction), while the Slack receiver answers 503 for ten minutes of a simulated clock (each pass jumps to the
earliest retry the drain scheduled). After it recovers: every incident delivered once, none lost, none twice, one
digest instead of ~200 messages, and never more than one request a second to the webhook."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from jobs.engines.detect.drift_findings import findings_of_drift
from jobs.engines.detect.home import HomeNetworks
from jobs.tasks import notify
from jobs.tasks.incidents import fold_findings
from models.db import session_scope
from models.incidents import Incident
from models.notifications import NotificationDelivery
from models.queries import drift_store
from models.queries import graph as graph_queries
from models.queries import notifications as q
from models.settings import get_settings
from tests.builders import make_tenant
from tests.integration.drift_support import fake_event
from tests.integration.notify_receivers import HttpReceiver

pytestmark = pytest.mark.integration
WINDOW = datetime(2026, 12, 4, 10, tzinfo=UTC)
HOOK = "/services/T/B/BURST"
SOURCES, PEERS = 200, 50  # 10,000 events: 200 workloads each reaching 50 new outside peers (an incident each)
OUTAGE_S = 600.0


@pytest.fixture
def allowed(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SG_NOTIFY_ALLOWED_HOSTS", "hooks.slack.test")
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


async def _burst(tenant_id: int) -> int:
    """Store the 10,000 events of one window and fold them as the drift job does; the events stored."""
    events = [fake_event("new_external", f"shop/web-{s}", f"198.51.100.{p + 1}", severity="high", risk=75.0)
              for s in range(SOURCES) for p in range(PEERS)]
    async with session_scope() as session:
        snapshot = await graph_queries.replace_snapshot(
            session, tenant_id=tenant_id, window_start=WINDOW, window_end=WINDOW + timedelta(hours=1),
            source="test", nodes=[], edges=[])
        changes = await drift_store.replace_snapshot_events(
            session, tenant_id=tenant_id, snapshot_id=snapshot.id or 0, window_start=WINDOW, events=events)
        findings = findings_of_drift(changes.inserted, home=HomeNetworks.of(), window_start=WINDOW.timestamp(),
                                     window_end=(WINDOW + timedelta(hours=1)).timestamp())
        await fold_findings(session, tenant_id=tenant_id, findings=[(int(f.facts["event_ref"]), f) for f in findings])
    return len(changes.inserted)


async def _rows(tenant_id: int) -> list[NotificationDelivery]:
    async with session_scope() as session:
        result = await session.exec(sa.select(NotificationDelivery).where(  # type: ignore[call-overload]
            NotificationDelivery.tenant_id == tenant_id).order_by(NotificationDelivery.id))
        return [r[0] for r in result]


async def _jump(tenant_id: int) -> float:
    """The simulated clock's step: seconds until the earliest pending retry, which is made due now."""
    pending = [r for r in await _rows(tenant_id) if r.status == "pending"]
    if not pending:
        return 0.0
    now = datetime.now(UTC)
    earliest = min(r.next_attempt_at.replace(tzinfo=r.next_attempt_at.tzinfo or UTC) for r in pending)
    async with session_scope() as session:
        await session.exec(sa.update(NotificationDelivery).where(  # type: ignore[call-overload]
            NotificationDelivery.tenant_id == tenant_id, NotificationDelivery.status == "pending"
        ).values(next_attempt_at=sa.func.current_timestamp()))
    return max(0.0, (earliest - now).total_seconds())


async def test_ten_thousand_events_through_a_ten_minute_slack_outage_end_in_one_digest(allowed: str) -> None:
    tenant = (await make_tenant("burst")).tenant_id
    async with session_scope() as session:
        await q.create_integration(session, tenant_id=tenant, actor="admin@t", kind="slack", name="soc",
                                   min_severity="info", config={"url": f"https://hooks.slack.test{HOOK}"})
    assert await _burst(tenant) == PEERS * SOURCES
    async with session_scope() as session:
        incidents = (await session.exec(sa.select(Incident.id, Incident.events).where(  # type: ignore[call-overload]
            Incident.tenant_id == tenant))).all()
    assert len(incidents) == SOURCES and sum(events for _, events in incidents) == PEERS * SOURCES

    receiver, clock, passes, answers = HttpReceiver(), 0.0, 0, Counter[int]()
    async with receiver.client() as client:
        while passes < 60:
            down = clock < OUTAGE_S
            receiver.fail_with = [(503, {})] * 1000 if down else []
            sent_before = len(receiver.requests)
            await notify.drain_tenant(client, tenant_id=tenant)
            answers[503 if down else 200] += len(receiver.requests) - sent_before
            passes += 1
            if not down and not [r for r in await _rows(tenant) if r.status == "pending"]:
                break
            clock += await _jump(tenant)
    rows = await _rows(tenant)
    children = [r for r in rows if r.kind == "new"]
    digests = [r for r in rows if r.kind == "digest"]
    # none lost, none twice: one delivery row per incident, each sent, all inside the one digest that went out
    assert sorted(r.incident_id for r in children) == sorted(i for i, _ in incidents)
    assert Counter(r.status for r in children) == {"sent": SOURCES}
    sent = [d for d in digests if d.status == "sent"]
    assert len(sent) == 1 and {r.digest_id for r in children} == {sent[0].id}
    assert receiver.bodies(HOOK)[-1]["text"] == f"{SOURCES} incidents in this minute"
    # the outage lasted ten simulated minutes of backoff, and after it exactly one message reached Slack
    assert clock >= OUTAGE_S and answers[503] >= 5 and answers[200] == 1
    assert len(receiver.requests) == answers[503] + answers[200] < 50
    gaps = [b - a for a, b in zip(receiver.times, receiver.times[1:], strict=False)]
    assert min(gaps) >= 1.0  # at most one request a second to the webhook
