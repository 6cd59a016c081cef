"""Monitor mode in Chromium (issue 19 Part B): approve a policy, switch its namespace to monitor on Policies ›
Readiness, push flows with one connection the policy does not admit, see the violation appear live, amend it into
a new version, approve that, and see the violation resolved (the page reloads live)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import create_async_engine

from tests.apprunner import LiveApp, seed_tenants, sg
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
TENANT = "golf"  # a tenant name of its own: test_incidents seeds "echo" in the same app
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


def _endpoint(app: str, address: str) -> dict[str, Any]:
    return {
        "namespace": "shop",
        "pod_name": f"{app}-6d4cf56db6-x{address[-1]}q2z",
        "labels": [f"k8s:app={app}", "k8s:io.kubernetes.pod.namespace=shop"],
    }


def _flow(src: str, src_ip: str, moment: datetime) -> str:
    when = moment.strftime("%Y-%m-%dT%H:%M:%S.000000000Z")
    flow = {
        "time": when,
        "verdict": "FORWARDED",
        "IP": {"source": src_ip, "destination": "10.9.0.30", "ipVersion": "IPv4"},
        "l4": {"TCP": {"source_port": 40123, "destination_port": 8443, "flags": {"SYN": True}}},
        "source": _endpoint(src, src_ip),
        "destination": _endpoint("payments", "10.9.0.30"),
        "Type": "L3_L4",
        "traffic_direction": "INGRESS",
        "is_reply": False,
        "Summary": "TCP Flags: SYN",
    }
    return json.dumps({"flow": flow, "time": when})


async def _settle(client: httpx.AsyncClient, headers: dict[str, str], within: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        runs = (await client.get("/api/v1/jobs?limit=500", headers=headers)).json()
        if not [r for r in runs if r["status"] in ("queued", "running", "retrying")]:
            return
        await asyncio.sleep(0.5)
    raise AssertionError("jobs did not settle")


async def _pending_policy(app: LiveApp) -> int:
    """sg-payments as an analyst submitted it (the generation job is tested elsewhere)."""
    engine = create_async_engine(app.database_url)
    try:
        async with engine.begin() as conn:
            tenant_id = (await conn.execute(sa.text("SELECT id FROM tenant WHERE name = :n"), {"n": TENANT})).scalar()
            row = await conn.execute(
                sa.text(
                    "INSERT INTO policy (tenant_id, name, namespace, target, yaml, notes, snapshot_ids, verification, "
                    "status, version, submitted_by, created_at, updated_at) VALUES (:t, 'sg-payments', 'shop', "
                    "'shop/payments', :y, '[]', '[]', '{}', 'pending', 1, :s, now(), now()) RETURNING id"
                ),
                {"t": tenant_id, "y": POLICY, "s": f"analyst@{TENANT}.test"},
            )
            return int(row.scalar_one())
    finally:
        await engine.dispose()


async def test_monitor_violation_live_amend_approve_resolved(browser: Browser, live_app: LiveApp) -> None:
    seed_tenants(live_app.env, [TENANT])
    approver = sg(
        live_app.env, "token", "create", "--tenant", TENANT, "--role", "approver", "--user", f"approver@{TENANT}.test"
    )
    analyst = sg(
        live_app.env, "token", "create", "--tenant", TENANT, "--role", "analyst", "--user", f"analyst@{TENANT}.test"
    )
    policy_id = await _pending_policy(live_app)
    async with httpx.AsyncClient(base_url=live_app.base_url, timeout=30) as client:
        approved = await client.post(
            f"/api/v1/policies/{policy_id}/approve",
            json={"reason": "api only"},
            headers={"Authorization": f"Bearer {approver}"},
        )
        assert approved.status_code == 200, approved.text

        page = await login(browser, live_app, f"approver@{TENANT}.test", path="/policies/readiness")
        await expect(page.locator("#ns-shop")).to_contain_text("learn", timeout=20_000)
        await page.click("#mode-monitor-shop")
        await page.fill("#mode-reason", "watch before enforcing")
        await page.click("#mode-confirm")
        await expect(page.locator("#readiness-message")).to_contain_text("shop is now in monitor", timeout=10_000)
        await expect(page.locator("#ns-shop")).to_contain_text("monitor")
        await expect(page.locator("#violations-empty")).to_be_visible()

        moment = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
        body = "\n".join([_flow("api", "10.9.0.11", moment), _flow("checkout", "10.9.0.12", moment)]) + "\n"
        pushed = await client.post(
            "/api/v1/flows?format=hubble", content=body.encode(), headers={"Authorization": f"Bearer {analyst}"}
        )
        assert pushed.status_code == 202, pushed.text
        # live: the monitor job's violation.changed reloads the page, no navigation
        violations = page.locator("#readiness-violations")
        await expect(violations).to_contain_text("would be blocked by sg-payments", timeout=60_000)
        await expect(violations).to_contain_text("no ingress rule admits app=checkout on TCP/8443")
        await expect(violations.locator("tbody tr")).to_have_count(1)
        await page.screenshot(path=str(live_app.log_dir / "readiness-violation.png"), full_page=True)

        await page.locator("#readiness-violations button", has_text="Amend").click()
        await expect(page.locator("#readiness-message")).to_contain_text("admits this flow", timeout=20_000)
        text = await page.locator("#readiness-message").inner_text()
        new_id = int(text.split("Draft policy ")[1].split()[0])
        for action, token in (("submit", analyst), ("approve", approver)):
            done = await client.post(
                f"/api/v1/policies/{new_id}/{action}",
                json={"reason": "admit checkout"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert done.status_code == 200, done.text
        await expect(page.locator("#violations-empty")).to_be_visible(timeout=60_000)
        resolved = await client.get(
            "/api/v1/drift-events?kind=violation", headers={"Authorization": f"Bearer {analyst}"}
        )
        assert [(e["status"], e["policy_id"]) for e in resolved.json()] == [("resolved", policy_id)]
        await page.click("#mode-enforce-shop")
        await page.fill("#mode-reason", "too early")
        await page.click("#mode-confirm")
        await expect(page.locator("#readiness-message")).to_contain_text("not ready to enforce", timeout=10_000)
        await page.screenshot(path=str(live_app.log_dir / "readiness-resolved.png"), full_page=True)
