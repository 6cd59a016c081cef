"""REST for drift events, feedback and the whitelist: filters, roles, audit, tenant isolation, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.db import session_scope
from models.queries import tenancy
from models.queries.audit import list_audit
from tests.builders import TenantFixture, make_tenant
from tests.integration.drift_support import bearer, fake_event, seed_events

pytestmark = pytest.mark.integration
T0 = datetime(2024, 4, 19, tzinfo=UTC)


async def viewer_token(tenant: TenantFixture) -> str:
    async with session_scope() as session:
        _, secret = await tenancy.create_api_token(session, tenant_id=tenant.tenant_id, role="viewer", name="ro",
                                                   service="reader")
    return secret


async def seeded() -> tuple[TenantFixture, TenantFixture, dict[str, Any]]:
    """alpha: four events over two windows; bravo: one."""
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    s1, rows1 = await seed_events(a.tenant_id, T0, [
        fake_event("beacon", "10.0.0.5", "203.0.113.9", 80, risk=90, severity="critical"),
        fake_event("new_port", "shop/api", "shop/db", 5432, risk=60, severity="high"),
        fake_event("new_edge", "shop/web", "shop/api", 8080, risk=30, severity="low"),
    ])
    s2, rows2 = await seed_events(a.tenant_id, T0 + timedelta(hours=1), [
        fake_event("new_external", "shop/api", "198.51.100.7", 443, risk=75, severity="high"),
    ])
    _, other = await seed_events(b.tenant_id, T0, [fake_event("new_node", "x/y", "x/y", None, risk=12)])
    ids = {f"{r['kind']}": r["id"] for r in [*rows1, *rows2]}
    return a, b, {"s1": s1, "s2": s2, "ids": ids, "bravo_event": other[0]["id"]}


async def test_listing_is_ranked_filtered_and_validated(client: httpx.AsyncClient) -> None:
    a, _, seen = await seeded()

    async def kinds(query: str = "") -> list[str]:
        answer = await client.get(f"/api/v1/drift-events{query}", headers=bearer(a.token))
        assert answer.status_code == 200, answer.text
        return [e["kind"] for e in answer.json()]

    assert await kinds() == ["beacon", "new_external", "new_port", "new_edge"]
    assert await kinds("?kind=new_port") == ["new_port"]
    assert await kinds(f"?snapshot_id={seen['s2']}") == ["new_external"]
    assert await kinds("?min_risk=60") == ["beacon", "new_external", "new_port"]
    assert await kinds("?status=open&limit=2") == ["beacon", "new_external"]
    assert await kinds("?status=resolved") == []
    first = (await client.get("/api/v1/drift-events?limit=1", headers=bearer(a.token))).json()[0]
    assert set(first) >= {"id", "snapshot_id", "kind", "src", "dst", "dst_port", "protocol", "risk", "severity",
                          "reasons", "explanation", "status"}
    assert (first["src"], first["dst"], first["dst_port"], first["risk"]) == ("10.0.0.5", "203.0.113.9", 80, 90)
    for query, message in [("?kind=bogus", "unknown kind 'bogus'"), ("?status=closed", "unknown status 'closed'"),
                           ("?min_risk=101", "min_risk must lie between 0 and 100")]:
        answer = await client.get(f"/api/v1/drift-events{query}", headers=bearer(a.token))
        assert answer.status_code == 422 and message in answer.json()["error"]["message"], answer.text


async def test_other_tenants_events_are_invisible_and_untouchable(client: httpx.AsyncClient) -> None:
    a, b, seen = await seeded()
    theirs = seen["ids"]["beacon"]
    listed = (await client.get("/api/v1/drift-events", headers=bearer(b.token))).json()
    assert [e["id"] for e in listed] == [seen["bravo_event"]]
    assert (await client.get(f"/api/v1/drift-events?snapshot_id={seen['s1']}", headers=bearer(b.token))).json() == []
    for method, path, body in [
        ("GET", f"/api/v1/drift-events/{theirs}", None),
        ("PATCH", f"/api/v1/drift-events/{theirs}", {"status": "resolved"}),
        ("POST", f"/api/v1/drift-events/{theirs}/feedback", {"verdict": "false_positive"}),
    ]:
        answer = await client.request(method, path, json=body, headers=bearer(b.token))
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", (method, answer.text)
    mine = (await client.get(f"/api/v1/drift-events/{theirs}", headers=bearer(a.token))).json()
    assert mine["status"] == "open"


async def test_status_change_and_feedback_need_an_analyst_and_are_audited(client: httpx.AsyncClient) -> None:
    a, _, seen = await seeded()
    event_id, viewer = seen["ids"]["new_port"], await viewer_token(a)
    assert (await client.get(f"/api/v1/drift-events/{event_id}", headers=bearer(viewer))).status_code == 200
    refused = await client.patch(f"/api/v1/drift-events/{event_id}", json={"status": "resolved"},
                                 headers=bearer(viewer))
    assert refused.status_code == 403 and "needs role analyst" in refused.json()["error"]["message"]
    refused = await client.post(f"/api/v1/drift-events/{event_id}/feedback", json={"verdict": "true_positive"},
                                headers=bearer(viewer))
    assert refused.status_code == 403
    bad = await client.patch(f"/api/v1/drift-events/{event_id}", json={"status": "closed"}, headers=bearer(a.token))
    assert bad.status_code == 422 and "unknown status 'closed'" in bad.json()["error"]["message"]
    changed = await client.patch(f"/api/v1/drift-events/{event_id}", json={"status": "acknowledged"},
                                 headers=bearer(a.token))
    assert changed.status_code == 200 and changed.json()["status"] == "acknowledged"
    bad = await client.post(f"/api/v1/drift-events/{event_id}/feedback", json={"verdict": "maybe"},
                            headers=bearer(a.token))
    assert bad.status_code == 422 and "unknown verdict 'maybe'" in bad.json()["error"]["message"]
    verdict = await client.post(f"/api/v1/drift-events/{event_id}/feedback", headers=bearer(a.token),
                                json={"verdict": "false_positive", "note": "migration job"})
    assert verdict.status_code == 200 and verdict.json()["status"] == "false_positive"
    async with session_scope() as session:
        entries = await list_audit(session, tenant_id=a.tenant_id)
    [status] = [e for e in entries if e.action == "drift_event.status"]
    assert status.target == f"drift_event:{event_id}" and status.actor.startswith("token:")
    assert (status.before, status.after) == ({"status": "open"}, {"status": "acknowledged"})
    [feedback] = [e for e in entries if e.action == "drift_event.feedback"]
    assert feedback.before == {"status": "acknowledged"}
    assert feedback.after == {"status": "false_positive", "verdict": "false_positive", "note": "migration job"}


async def test_whitelist_crud_validates_audits_and_stays_in_its_tenant(client: httpx.AsyncClient) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    good = {"src_pattern": "10.0.0.0/8", "dst_pattern": "shop/*", "port": 5432, "expires_at": future,
            "reason": "nightly backup"}
    for change, message in [
        ({"reason": "  "}, "a reason is required"),
        ({"src_pattern": ""}, "src_pattern must not be empty"),
        ({"dst_pattern": " "}, "dst_pattern must not be empty"),
        ({"port": 0}, "port must lie between 1 and 65535"),
        ({"port": 70000}, "port must lie between 1 and 65535"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at must be in the future"),
        ({"expires_at": "next week"}, "is not an ISO 8601 date"),
    ]:
        answer = await client.post("/api/v1/whitelist", json={**good, **change}, headers=bearer(a.token))
        assert answer.status_code == 422 and message in answer.json()["error"]["message"], (change, answer.text)
    viewer = await viewer_token(a)
    assert (await client.post("/api/v1/whitelist", json=good, headers=bearer(viewer))).status_code == 403
    created = await client.post("/api/v1/whitelist", json=good, headers=bearer(a.token))
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["port"] == 5432 and entry["reason"] == "nightly backup" and entry["expired"] is False
    assert entry["author"].startswith("token:")
    listed = (await client.get("/api/v1/whitelist", headers=bearer(viewer))).json()
    assert [e["id"] for e in listed] == [entry["id"]]
    assert (await client.get("/api/v1/whitelist", headers=bearer(b.token))).json() == []
    assert (await client.delete(f"/api/v1/whitelist/{entry['id']}", headers=bearer(b.token))).status_code == 404
    assert (await client.delete(f"/api/v1/whitelist/{entry['id']}", headers=bearer(viewer))).status_code == 403
    assert (await client.delete(f"/api/v1/whitelist/{entry['id']}", headers=bearer(a.token))).status_code == 204
    assert (await client.get("/api/v1/whitelist", headers=bearer(a.token))).json() == []
    assert (await client.delete(f"/api/v1/whitelist/{entry['id']}", headers=bearer(a.token))).status_code == 404
    async with session_scope() as session:
        actions = [e.action for e in await list_audit(session, tenant_id=a.tenant_id)]
        others = [e.action for e in await list_audit(session, tenant_id=b.tenant_id)]
    assert actions == ["whitelist.delete", "whitelist.create"] and others == []
