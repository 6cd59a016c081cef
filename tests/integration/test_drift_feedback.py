"""The analyst loop through the job chain: a false-positive verdict lowers the risk of similar events (the same
kind, destination and port) in the next window, a whitelist entry suppresses it there (an expired one does not),
and one tenant's verdicts never move another's scores.

Both tenants ingest the same RITA hours; bravo processes the next hour first and is the control. The judged
pattern is a new outside peer of the sensor's ssh: a new source every hour (drift left beacons to detection, so
no drift event repeats exactly from one hour to the next).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.db import session_scope
from models.drift import DriftEvent, Whitelist
from models.queries import drift as drift_queries
from tests.builders import TenantFixture, make_tenant
from tests.integration.drift_support import BEACON, all_events, bearer, pattern, push, rita_files, settled

pytestmark = pytest.mark.integration
W = datetime(2024, 4, 19, 3, tzinfo=UTC)
NEXT = W + timedelta(hours=1)
# kind, destination and port: what "similar" means to the feedback (`jobs.engines.drift.feedback`)
SIMILAR = ("new_external", BEACON[1], 22)


async def window_events(tenant_id: int, start: datetime) -> dict[tuple[Any, ...], DriftEvent]:
    events = await all_events(tenant_id, since=start, until=start + timedelta(hours=1))
    return {pattern(e): e for e in events}


def similar(events: dict[tuple[Any, ...], DriftEvent]) -> list[DriftEvent]:
    found = sorted((e for e in events.values() if (e.kind, e.dst, e.dst_port) == SIMILAR), key=pattern)
    assert found, "the RITA hour has no new ssh peer of the sensor"
    return found


def others(events: dict[tuple[Any, ...], DriftEvent]) -> list[DriftEvent]:
    """Open events of other sources, one per (src, dst, port), so whitelisting one cannot cover another."""
    chosen: dict[tuple[str, str, int | None], DriftEvent] = {}
    for event in events.values():
        if (event.kind, event.dst, event.dst_port) != SIMILAR and event.src != BEACON[0] and event.status == "open":
            chosen.setdefault((event.src, event.dst, event.dst_port), event)
    return list(chosen.values())


async def decide(
    client: httpx.AsyncClient, a: TenantFixture, b: TenantFixture, whitelisted: DriftEvent, expired: DriftEvent
) -> DriftEvent:
    """Analysts' decisions before alpha's next window: verdicts in both tenants, alpha's whitelist entries."""
    # bravo confirms its copy: were verdicts shared, it would cancel alpha's false positive
    bravo_verdict = await client.post(f"/api/v1/drift-events/{similar(await window_events(b.tenant_id, W))[0].id}"
                                      "/feedback", json={"verdict": "true_positive"}, headers=bearer(b.token))
    assert bravo_verdict.status_code == 200, bravo_verdict.text
    alpha_judged = similar(await window_events(a.tenant_id, W))[0]
    answer = await client.post(f"/api/v1/drift-events/{alpha_judged.id}/feedback", headers=bearer(a.token),
                               json={"verdict": "false_positive", "note": "our uptime probe"})
    assert answer.status_code == 200 and answer.json()["status"] == "false_positive"
    entry = await client.post("/api/v1/whitelist", headers=bearer(a.token), json={
        "src_pattern": whitelisted.src, "dst_pattern": whitelisted.dst, "port": whitelisted.dst_port,
        "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(), "reason": "known scanner"})
    assert entry.status_code == 201, entry.text
    async with session_scope() as session:
        # an entry that expired yesterday (the API refuses to create one in the past)
        session.add(Whitelist(tenant_id=a.tenant_id, src_pattern=expired.src, dst_pattern=expired.dst,
                              port=expired.dst_port, expires_at=datetime.now(UTC) - timedelta(days=1),
                              reason="old exception", author="test"))
    return alpha_judged


async def test_verdicts_and_whitelist_shape_the_next_window_of_their_tenant_only(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    files = rita_files()[:5]
    async with worker_factory():
        for tenant in (a, b):
            for path in files[:4]:
                await push(client, tenant.token, path)
                await settled(tenant.tenant_id)
        await push(client, b.token, files[4])
        await settled(b.tenant_id)
        control = await window_events(b.tenant_id, NEXT)
        control_similar = similar(control)
        whitelisted, expired = others(control)[:2]
        alpha_judged = await decide(client, a, b, whitelisted, expired)
        await push(client, a.token, files[4])
        await settled(a.tenant_id)
    alpha = await window_events(a.tenant_id, NEXT)
    lowered = similar(alpha)
    assert [pattern(e) for e in lowered] == [pattern(e) for e in control_similar]
    assert all(mine.risk < theirs.risk for mine, theirs in zip(lowered, control_similar, strict=True))
    [feedback] = [r for r in lowered[0].reasons if r["feature"] == "feedback"]
    assert feedback["contribution"] < 0 and "1 similar event(s) marked false positive" in feedback["evidence"]
    assert "true positive" not in feedback["evidence"]
    assert not any(r["feature"] == "feedback" for e in control_similar for r in e.reasons)
    suppressed = alpha[pattern(whitelisted)]
    assert suppressed.status == "suppressed" and suppressed.evidence["whitelist"]["reason"] == "known scanner"
    assert control[pattern(whitelisted)].status == "open"
    assert alpha[pattern(expired)].status == "open"
    # the rebuilt earlier window kept the analyst's decision and its history
    async with session_scope() as session:
        again = await drift_queries.get_event(session, tenant_id=a.tenant_id, event_id=alpha_judged.id or 0)
        history = await drift_queries.event_history(session, tenant_id=a.tenant_id, event_id=alpha_judged.id or 0)
    assert again.status == "false_positive" and again.status_by.startswith("token:")
    assert [h["action"] for h in history] == ["feedback", "detected"]
    assert "our uptime probe" in history[0]["detail"]
