"""REST for incidents: the ranked, validated list; one incident with its riskiest events; status and verdicts that
reach the events and the audit log; another tenant's ids answer 404; roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.db import session_scope
from models.incidents import IncidentRow, incident_totals
from models.queries import incidents as incident_queries
from models.queries import tenancy
from models.queries.audit import list_audit
from tests.builders import TenantFixture, make_tenant
from tests.integration.drift_support import bearer, fake_event, seed_events

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


def incident(key: str, *, score: float, severity: str, first_seen: datetime = T0) -> IncidentRow:
    kind, direction, entity, service = key.split("|")
    return IncidentRow(
        key=key, kind=kind, direction=direction, entity=entity, service=service, first_seen=first_seen,
        first_reported=first_seen + HOUR, last_seen=first_seen + 2 * HOUR, peak_risk=int(score), severity=severity,
        score=score, rank_note="", events=3, attempts=120, answered=4, summary=f"{kind} by {entity}",
        totals=incident_totals(sources=["198.51.100.7"], hosts=["10.0.0.5", "10.0.0.6"], ports={"22/tcp": 5},
                               actors={"198.51.100.7": 120}, answered_ports=["22/tcp"], facts={"ts_score": 0.93},
                               latest={}, shape=f"{kind}|{direction}|{service}|{entity}"))


async def seeded() -> tuple[TenantFixture, TenantFixture, dict[str, Any]]:
    """alpha: a beacon incident with 3 events and a brute force one; bravo: one incident."""
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    _, rows = await seed_events(a.tenant_id, T0, [
        fake_event("new_external", "10.0.0.5", "203.0.113.9", port, risk=r) for port, r in ((443, 70), (8443, 90), (80, 30))])
    _, other = await seed_events(a.tenant_id, T0 + HOUR, [fake_event("new_port", "shop/api", "shop/db", 5432)])
    async with session_scope() as session:
        ids = await incident_queries.upsert_incidents(session, tenant_id=a.tenant_id, rows=[
            incident("beacon|outbound|10.0.0.5 → 203.0.113.9|443/tcp", score=85.0, severity="critical"),
            incident("brute_force|inbound|10.0.0.0/24|22/tcp", score=45.0, severity="medium")])
        beacon = ids[("beacon|outbound|10.0.0.5 → 203.0.113.9|443/tcp", T0)]
        await incident_queries.link_events(session, tenant_id=a.tenant_id, links=[(r["id"], beacon) for r in rows])
        theirs = await incident_queries.upsert_incidents(session, tenant_id=b.tenant_id, rows=[
            incident("scan|inbound|192.168.0.0/16|", score=20.0, severity="low")])
    return a, b, {"beacon": beacon, "events": [r["id"] for r in rows], "other": other[0]["id"],
                  "bravo": next(iter(theirs.values()))}


async def token(tenant: TenantFixture, role: str) -> str:
    async with session_scope() as session:
        _, secret = await tenancy.create_api_token(session, tenant_id=tenant.tenant_id, role=role, name=role,
                                                   service=f"{role}-svc")
    return secret


async def test_list_is_ranked_filtered_and_validated(client: httpx.AsyncClient) -> None:
    a, b, seen = await seeded()

    async def kinds(query: str = "", who: TenantFixture = a) -> list[str]:
        answer = await client.get(f"/api/v1/incidents{query}", headers=bearer(who.token))
        assert answer.status_code == 200, answer.text
        return [i["kind"] for i in answer.json()]

    assert await kinds() == ["beacon", "brute_force"]
    assert await kinds("?severity=medium") == ["brute_force"]
    assert await kinds("?kind=beacon&direction=outbound&min_score=80") == ["beacon"]
    assert await kinds("?q=10.0.0.0") == ["brute_force"]
    assert await kinds("?status=resolved") == []
    assert await kinds("?limit=1&offset=1") == ["brute_force"]
    assert await kinds("?since=2026-11-30T03:00:00Z") == []
    assert await kinds("?until=2026-11-30T00:00:01%2B00:00") == ["beacon", "brute_force"]
    assert await kinds(who=b) == ["scan"]
    first = (await client.get("/api/v1/incidents?limit=1", headers=bearer(a.token))).json()[0]
    assert first["id"] == seen["beacon"] and (first["sources"], first["hosts"], first["ports"]) == (1, 2, ["22/tcp"])
    assert first["top_actors"] == [{"actor": "198.51.100.7", "attempts": 120}] and first["facts"] == {"ts_score": 0.93}
    assert first["first_seen"] == T0.isoformat()
    for query, message in [("?status=closed", "unknown status 'closed'"), ("?kind=phishing", "unknown kind"),
                           ("?direction=up", "unknown direction"), ("?severity=urgent", "unknown severity"),
                           ("?min_score=101", "min_score"), ("?limit=0", "limit"), ("?offset=-1", "offset"),
                           ("?since=yesterday", "since"), ("?since=2026-11-30T00:00:00Z&until=2026-11-29T00:00:00Z",
                                                          "since must be before until")]:
        answer = await client.get(f"/api/v1/incidents{query}", headers=bearer(a.token))
        assert answer.status_code == 422, query
        assert answer.json()["error"]["code"] == "invalid_request" and message in answer.json()["error"]["message"]


async def test_detail_status_and_feedback_reach_the_events(client: httpx.AsyncClient) -> None:
    a, _, seen = await seeded()
    url = f"/api/v1/incidents/{seen['beacon']}"
    detail = (await client.get(url, headers=bearer(a.token))).json()
    assert detail["linked_events"] == 3 and detail["events"] == 3
    assert [e["risk"] for e in detail["top_events"]] == [90, 70, 30]
    linked = await client.get(f"/api/v1/drift-events?incident_id={seen['beacon']}&limit=2", headers=bearer(a.token))
    assert [e["risk"] for e in linked.json()] == [90, 70]

    changed = await client.patch(url, json={"status": "acknowledged"}, headers=bearer(a.token))
    assert changed.status_code == 200 and changed.json()["status"] == "acknowledged"
    events = (await client.get(f"/api/v1/drift-events?incident_id={seen['beacon']}", headers=bearer(a.token))).json()
    assert {e["status"] for e in events} == {"acknowledged"}
    untouched = (await client.get(f"/api/v1/drift-events/{seen['other']}", headers=bearer(a.token))).json()
    assert untouched["status"] == "open"
    assert (await client.patch(url, json={"status": "closed"}, headers=bearer(a.token))).status_code == 422

    verdict = await client.post(f"{url}/feedback", json={"verdict": "false_positive", "note": "our backup agent"},
                                headers=bearer(a.token))
    assert verdict.status_code == 200 and verdict.json()["status"] == "false_positive"
    events = (await client.get(f"/api/v1/drift-events?incident_id={seen['beacon']}", headers=bearer(a.token))).json()
    assert {e["status"] for e in events} == {"false_positive"}
    bad = await client.post(f"{url}/feedback", json={"verdict": "maybe"}, headers=bearer(a.token))
    assert bad.status_code == 422 and "unknown verdict" in bad.json()["error"]["message"]
    too_long = await client.post(f"{url}/feedback", json={"verdict": "true_positive", "note": "x" * 2001},
                                 headers=bearer(a.token))
    assert too_long.status_code == 422
    async with session_scope() as session:
        audit = await list_audit(session, tenant_id=a.tenant_id)
        verdicts = await incident_queries.ranking_feedback(session, tenant_id=a.tenant_id)
    actions = [(e.action, e.target) for e in audit if e.action.startswith("incident.")]
    assert actions == [("incident.feedback", f"incident:{seen['beacon']}"),
                       ("incident.status", f"incident:{seen['beacon']}")]
    assert [(v.verdict, v.note, v.shape) for v in verdicts] == [
        ("false_positive", "our backup agent", "beacon|outbound|443/tcp|10.0.0.5 → 203.0.113.9")]


async def test_another_tenants_incident_is_not_found(client: httpx.AsyncClient) -> None:
    a, b, seen = await seeded()
    url = f"/api/v1/incidents/{seen['beacon']}"
    for method, path, body in [("GET", url, None), ("PATCH", url, {"status": "resolved"}),
                               ("POST", f"{url}/feedback", {"verdict": "false_positive"})]:
        answer = await client.request(method, path, json=body, headers=bearer(b.token))
        assert answer.status_code == 404, (method, path)
        assert answer.json()["error"] == {"code": "not_found", "message": f"incident {seen['beacon']} not found"}
    listed = await client.get(f"/api/v1/drift-events?incident_id={seen['beacon']}", headers=bearer(b.token))
    assert listed.status_code == 200 and listed.json() == []
    mine = await client.get(f"/api/v1/incidents/{seen['bravo']}", headers=bearer(a.token))
    assert mine.status_code == 404
    still = (await client.get(url, headers=bearer(a.token))).json()
    assert still["status"] == "open"


async def test_viewers_read_and_analysts_change(client: httpx.AsyncClient) -> None:
    a, _, seen = await seeded()
    viewer, analyst = await token(a, "viewer"), await token(a, "analyst")
    url = f"/api/v1/incidents/{seen['beacon']}"
    assert (await client.get(url, headers=bearer(viewer))).status_code == 200
    assert (await client.get("/api/v1/incidents")).status_code == 401
    for method, path, body in [("PATCH", url, {"status": "resolved"}),
                               ("POST", f"{url}/feedback", {"verdict": "true_positive"})]:
        refused = await client.request(method, path, json=body, headers=bearer(viewer))
        assert refused.status_code == 403, (method, path)
        allowed = await client.request(method, path, json=body, headers=bearer(analyst))
        assert allowed.status_code == 200, allowed.text


async def test_detail_names_the_owners_of_its_outside_addresses_with_the_attribution(
    client: httpx.AsyncClient,
) -> None:
    from datetime import timedelta as _td

    import polars as pl

    from jobs.engines.flows import CANONICAL_SCHEMA
    from jobs.stores.flows import UploadWriter

    a, b, seen = await seeded()
    # ingest enriches the outside addresses of alpha's upload (8.8.8.8); 198.51.100.7 is documentation space
    flows = pl.DataFrame([{"ts_start": T0, "ts_end": T0 + _td(seconds=1), "src_ip": src, "src_port": 40000,
                           "dst_ip": "10.0.0.5", "dst_port": 22, "protocol": "tcp", "bytes": 100, "packets": 1,
                           "action": "accept", "answered": False, "orig_bytes": 40}
                          for src in ("8.8.8.8", "198.51.100.7")], schema=CANONICAL_SCHEMA)
    writer = UploadWriter(tenant_id=a.tenant_id, upload_id=1, fmt="csv")
    writer.add(flows)
    writer.commit()
    async with session_scope() as session:
        ids = await incident_queries.upsert_incidents(session, tenant_id=a.tenant_id, rows=[
            incident("brute_force|inbound|8.8.8.8|22/tcp", score=40.0, severity="medium")])
    guessed = next(iter(ids.values()))
    answer = await client.get(f"/api/v1/incidents/{guessed}", headers=bearer(a.token))
    assert answer.status_code == 200, answer.text
    detail = answer.json()
    assert [(o["address"], o["asn"], o["country"]) for o in detail["outside"]] == [("8.8.8.8", 15169, "US")]
    assert "DB-IP" in detail["attribution"] and detail["attribution_link"] == "https://db-ip.com"
    # an incident whose addresses were never enriched names no owner and carries no attribution
    plain = (await client.get(f"/api/v1/incidents/{seen['beacon']}", headers=bearer(a.token))).json()
    assert plain["outside"] == [] and plain["attribution"] == ""
    # bravo's incident reads bravo's store, never alpha's
    theirs = (await client.get(f"/api/v1/incidents/{seen['bravo']}", headers=bearer(b.token))).json()
    assert theirs["outside"] == []
