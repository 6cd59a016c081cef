"""Monitor mode end to end through REST and the worker: a namespace's mode, the window's violations naming the
policy and folded into an incident, amend (a new version; its approval re-evaluates the window at once, so the
violation and its incident are resolved without the scheduler), confirm (the incident resolves too), and enforce
refused until ready."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from jobs.runtime.connections import get_redis
from jobs.tasks.monitor import schedule_monitor
from models.db import session_scope
from models.graph import Edge, Node, Snapshot
from models.namespaces import NamespaceMode
from models.ops import AuditLog
from models.policy import Policy
from models.queries import policies as policy_queries
from tests.builders import bearer, make_tenant, person_token, settled

pytestmark = pytest.mark.integration
T0 = datetime(2026, 12, 4, 10, tzinfo=UTC)
POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: sg-payments
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: payments
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: api
    ports:
    - port: 8443
      protocol: TCP
"""


async def _seed(tenant_id: int) -> tuple[int, int]:
    """One window: api → payments:8443 (allowed), checkout → payments:8443 (not); an approved sg-payments."""
    async with session_scope() as session:
        snap = Snapshot(
            tenant_id=tenant_id,
            window_start=T0,
            window_end=T0 + timedelta(hours=1),
            source="test",
            status="ready",
            node_count=3,
            edge_count=2,
            built_at=T0,
        )
        session.add(snap)
        await session.flush()
        for name in ("payments", "api", "checkout"):
            session.add(
                Node(
                    tenant_id=tenant_id,
                    snapshot_id=snap.id or 0,
                    key=f"shop/{name}",
                    name=name,
                    kind="workload",
                    namespace="shop",
                    labels={"app": name},
                )
            )
        for src, flows in (("api", 10), ("checkout", 3)):
            session.add(
                Edge(
                    tenant_id=tenant_id,
                    snapshot_id=snap.id or 0,
                    src=f"shop/{src}",
                    dst="shop/payments",
                    dst_port=8443,
                    protocol="TCP",
                    bytes=100,
                    packets=4,
                    flows=flows,
                    first_seen=T0,
                    last_seen=T0,
                )
            )
        policy = Policy(
            tenant_id=tenant_id,
            name="sg-payments",
            namespace="shop",
            target="shop/payments",
            yaml=POLICY,
            status="approved",
            snapshot_ids=[snap.id or 0],
        )
        session.add(policy)
        await session.flush()
        return snap.id or 0, policy.id or 0


async def _violations(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/drift-events?kind=violation", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return list(answer.json())


async def _incidents(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/incidents?kind=violation", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return list(answer.json())


EXPLANATION = "checkout → payments:8443 would be blocked by sg-payments: no ingress rule admits app=checkout on TCP/8443"


async def test_monitor_amend_approve_resolves_and_enforce_waits_for_readiness(
    client: httpx.AsyncClient, worker_factory: Callable[..., Any]
) -> None:
    tenant = await make_tenant("monitor")
    approver = await person_token(tenant.tenant_id, "approver")
    other_approver = await person_token(tenant.tenant_id, "approver")
    _, policy_id = await _seed(tenant.tenant_id)
    listed = (await client.get("/api/v1/namespaces", headers=bearer(tenant.token))).json()
    assert [(n["cluster"], n["namespace"], n["mode"]) for n in listed] == [("default", "shop", "learn")]

    url = "/api/v1/namespaces/default/shop/mode"
    refused = await client.put(url, json={"mode": "monitor", "reason": "try"}, headers=bearer(tenant.token))
    assert refused.status_code == 403  # an analyst's token
    async with worker_factory():
        answer = await client.put(
            url, json={"mode": "monitor", "reason": "watch before enforcing"}, headers=bearer(approver)
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["mode"] == "monitor"
        await settled(tenant.tenant_id)
        (violation,) = await _violations(client, tenant.token)
        assert (violation["src"], violation["dst"], violation["dst_port"], violation["policy_id"]) == (
            "shop/checkout",
            "shop/payments",
            8443,
            policy_id,
        )
        assert violation["explanation"] == EXPLANATION
        (incident,) = await _incidents(client, tenant.token)
        assert (incident["entity"], incident["status"], incident["summary"]) == ("shop/sg-payments", "open", EXPLANATION)
        assert incident["events"] == 1 and incident["severity"] == violation["severity"]
        linked = await client.get(f"/api/v1/drift-events?incident_id={incident['id']}", headers=bearer(tenant.token))
        assert [e["id"] for e in linked.json()] == [violation["id"]]
        shop = (await client.get("/api/v1/namespaces", headers=bearer(tenant.token))).json()[0]
        assert shop["readiness"]["open_violations"] == 1 and shop["readiness"]["blocked_flows"] == 3
        enforce = await client.put(url, json={"mode": "enforce", "reason": "go"}, headers=bearer(approver))
        assert enforce.status_code == 409 and "0.0 of 7 days in monitor" in enforce.text, enforce.text

        amended = await client.post(f"/api/v1/violations/{violation['id']}/amend", headers=bearer(tenant.token))
        assert amended.status_code == 201, amended.text
        new_id = amended.json()["policy_id"]
        async with session_scope() as session:
            draft = await policy_queries.get_policy(session, tenant_id=tenant.tenant_id, policy_id=new_id)
            assert (draft.status, draft.version) == ("draft", 2) and "app: checkout" in draft.yaml
        for action, token in (("submit", tenant.token), ("approve", other_approver)):
            done = await client.post(
                f"/api/v1/policies/{new_id}/{action}", json={"reason": "admit checkout"}, headers=bearer(token)
            )
            assert done.status_code == 200, done.text
        # the approval itself re-evaluated the window: resolved with no scheduler run, which then has nothing to do
        await settled(tenant.tenant_id)
        (after,) = await _violations(client, tenant.token)
        assert (after["id"], after["status"]) == (violation["id"], "resolved")
        assert (await schedule_monitor({"redis": get_redis()}))["queued"] == 0
    (closed,) = await _incidents(client, tenant.token)
    assert (closed["id"], closed["status"], closed["status_by"]) == (incident["id"], "resolved", "monitor")
    shop = (await client.get("/api/v1/namespaces", headers=bearer(tenant.token))).json()[0]
    assert shop["readiness"]["open_violations"] == 0 and shop["readiness"]["blocked_flows"] == 0
    async with session_scope() as session:
        actions = list(await session.exec(select(AuditLog.action).where(AuditLog.tenant_id == tenant.tenant_id)))
    assert "namespace.mode" in actions and "violation.amend" in actions


async def test_confirm_makes_a_true_positive_and_enforce_follows_the_rule(
    client: httpx.AsyncClient, worker_factory: Callable[..., Any]
) -> None:
    tenant = await make_tenant("confirm")
    approver = await person_token(tenant.tenant_id, "approver")
    await _seed(tenant.tenant_id)
    url = "/api/v1/namespaces/default/shop/mode"
    async with worker_factory():
        assert (
            await client.put(url, json={"mode": "monitor", "reason": "watch"}, headers=bearer(approver))
        ).status_code == 200
        await settled(tenant.tenant_id)
    (violation,) = await _violations(client, tenant.token)
    confirmed = await client.post(
        f"/api/v1/violations/{violation['id']}/confirm", json={"note": "keep blocked"}, headers=bearer(tenant.token)
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "acknowledged", confirmed.text
    (incident,) = await _incidents(client, tenant.token)
    assert (incident["status"], incident["summary"]) == ("resolved", EXPLANATION)  # its only violation is confirmed
    async with session_scope() as session:  # seven days in monitor ago
        row = (await session.exec(select(NamespaceMode).where(NamespaceMode.tenant_id == tenant.tenant_id))).one()
        row.monitor_since = datetime.now(UTC) - timedelta(days=7, minutes=1)
        session.add(row)
    ready = (await client.get("/api/v1/namespaces", headers=bearer(tenant.token))).json()[0]["readiness"]
    assert ready["ready"] is True and ready["open_violations"] == 0
    enforce = await client.put(url, json={"mode": "enforce", "reason": "clean week"}, headers=bearer(approver))
    assert enforce.status_code == 200 and enforce.json()["mode"] == "enforce", enforce.text
    other = await make_tenant("other-monitor")
    assert (await client.get("/api/v1/namespaces", headers=bearer(other.token))).json() == []
    theirs = await client.post(f"/api/v1/violations/{violation['id']}/confirm", json={}, headers=bearer(other.token))
    assert theirs.status_code == 404
