"""The Jobs page in Chromium: trigger a snapshot build and watch it live, retry, cancel, date validation."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.apprunner import LiveApp, sg
from tests.conftest import ROOT, SHARED_DATA
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
CONN_LOG = SHARED_DATA / "zeek" / "rita-truncated" / "conn.log"
ENQUEUE = """
import asyncio, json, sys
from jobs.runtime.queue import enqueue_job
from models.db import session_scope
from models.queries import tenancy

async def main():
    async with session_scope() as session:
        tenant = await tenancy.get_tenant_by_name(session, name=sys.argv[1])
    run = await enqueue_job("ping", tenant_id=tenant.id, triggered_by="e2e", params=json.loads(sys.argv[2]),
                            defer_seconds=float(sys.argv[3]) or None)
    print(run.id)

asyncio.run(main())
"""


def enqueue_ping(app: LiveApp, tenant: str, params: str, defer: float = 0) -> str:
    """Queue a ping outside the browser (its own process and loop) and return the run id."""
    done = subprocess.run([sys.executable, "-c", ENQUEUE, tenant, params, str(defer)], env=app.env, cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


async def open_run(page: Page, run_id: str) -> None:
    await page.fill("#job-lookup", run_id)
    await page.click("#job-lookup-go")
    await expect(page.locator("#run-detail")).to_contain_text(f"Run #{run_id}", timeout=10_000)


async def _upload(app: LiveApp) -> dict[str, str]:
    token = sg(app.env, "token", "create", "--tenant", "charlie", "--role", "analyst")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=app.base_url, headers=headers, timeout=30) as client:
        pushed = (await client.post("/api/v1/flows?format=zeek", content=CONN_LOG.read_bytes())).json()
        for _ in range(200):
            snapshots = (await client.get("/api/v1/snapshots")).json()
            if snapshots:
                return dict(snapshots[0])
            await asyncio.sleep(0.2)
    raise AssertionError(f"upload {pushed} built no snapshot")


async def test_trigger_a_snapshot_build_and_watch_it_succeed_live(browser: Browser, live_app: LiveApp) -> None:
    snapshot = await _upload(live_app)
    page = await login(browser, live_app, "admin@charlie.test")
    await page.fill("#build-start", snapshot["window_start"])
    await page.fill("#build-end", snapshot["window_end"])
    await page.click("#trigger-build")
    notice = page.locator("#control-notice")
    await expect(notice).to_contain_text("Queued 1 snapshot build(s)", timeout=10_000)
    run_id = re.search(r"#(\d+)", await notice.inner_text()).group(1)  # type: ignore[union-attr]
    await expect(page.locator(f"#job-{run_id} .job-status")).to_have_text("succeeded", timeout=20_000)
    await expect(page.locator(f"#job-{run_id}")).to_contain_text("100%")
    await open_run(page, run_id)
    await expect(page.locator("#detail-status")).to_have_text("succeeded")
    await expect(page.locator("#detail-links")).to_contain_text("snapshot #")
    # the same window again, as a drift run over the snapshot just built
    await page.click("#trigger-what")
    await page.get_by_role("option", name="Run drift detection").click()
    await page.click("#trigger-build")
    await expect(notice).to_contain_text("Queued 1 drift run(s)", timeout=10_000)
    drift_id = re.search(r"#(\d+)", await notice.inner_text()).group(1)  # type: ignore[union-attr]
    await expect(page.locator(f"#job-{drift_id} .job-status")).to_have_text("succeeded", timeout=30_000)
    await expect(page.locator(f"#job-{drift_id}")).to_contain_text("detect_drift")


async def test_build_form_explains_bad_dates(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "admin@charlie.test")
    cases = [("2024-04-19T05:00:00Z", "2024-04-19T01:00:00Z", "window_start must be before window_end"),
             ("2024-04-19T00:00:00Z", "2999-01-01T00:00:00Z", "window_end is in the future"),
             ("yesterday", "2024-04-19T01:00:00Z", "is not an ISO 8601 date"),
             ("2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", "at most 31 days")]
    for start, end, message in cases:
        await page.fill("#build-start", start)
        await page.fill("#build-end", end)
        await page.click("#trigger-build")
        await expect(page.locator("#build-error")).to_contain_text(message, timeout=10_000)


async def test_retry_a_failed_run_and_cancel_a_queued_one(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "admin@charlie.test")
    failed = enqueue_ping(live_app, "charlie", '{"delay": "not-a-number"}')
    await expect(page.locator(f"#job-{failed} .job-status")).to_have_text("failed", timeout=20_000)
    await open_run(page, failed)
    await expect(page.locator("#detail-error")).to_contain_text("TypeError")
    await page.click("#detail-retry")
    await expect(page.locator("#control-notice")).to_contain_text(f"a retry of #{failed}", timeout=10_000)
    await expect(page.locator("#detail-retry_of")).to_have_text(failed)

    queued = enqueue_ping(live_app, "charlie", "{}", defer=300)
    await expect(page.locator(f"#job-{queued} .job-status")).to_have_text("queued", timeout=20_000)
    await open_run(page, queued)
    await page.click("#detail-cancel")
    await expect(page.locator(f"#job-{queued} .job-status")).to_have_text("cancelled", timeout=10_000)
    await expect(page.locator("#detail-status")).to_have_text("cancelled")


async def test_viewer_sees_no_controls(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "viewer@charlie.test")
    await expect(page.locator("#jobs-metrics")).to_be_visible()
    assert await page.locator("#trigger-build").count() == 0
    assert await page.locator("#bulk-retry").count() == 0


async def test_a_run_has_its_own_url_and_a_permanent_failure_is_not_offered_a_retry(
    browser: Browser, live_app: LiveApp
) -> None:
    token = sg(live_app.env, "token", "create", "--tenant", "charlie", "--role", "analyst")
    async with httpx.AsyncClient(base_url=live_app.base_url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30) as client:
        pushed = (await client.post("/api/v1/flows?format=auto",
                                    content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)).json()
        for _ in range(100):
            if (await client.get(f"/api/v1/jobs/{pushed['job_id']}")).json()["status"] == "failed":
                break
            await asyncio.sleep(0.2)
    page = await login(browser, live_app, "admin@charlie.test", path=f"/jobs?run={pushed['job_id']}")
    detail = page.locator("#run-detail")
    await expect(detail).to_contain_text(f"Run #{pushed['job_id']}", timeout=20_000)
    await expect(page.locator("#detail-error")).to_contain_text("file rejected")
    await expect(page.locator("#detail-advice")).to_contain_text("would fail the same way")
    assert await page.locator("#detail-retry").count() == 0
    await page.click("#detail-close")
    await expect(detail).to_have_count(0)
    await expect(page).to_have_url(re.compile(r"/jobs/?$"))

    # A run opened from the table puts itself in the address bar; that address opens it again.
    failed = enqueue_ping(live_app, "charlie", '{"delay": "not-a-number"}')
    await expect(page.locator(f"#job-{failed} .job-status")).to_have_text("failed", timeout=20_000)
    await page.locator(f"#job-{failed} .job-open").click()
    await expect(page).to_have_url(re.compile(rf"/jobs/?\?run={failed}$"), timeout=10_000)
    await expect(page.locator("#detail-advice")).to_contain_text("An unexpected error")
    await expect(page.locator("#detail-retry")).to_be_visible()
    await page.reload()
    await expect(detail).to_contain_text(f"Run #{failed}", timeout=20_000)

    await page.goto(f"{live_app.base_url}/jobs?run=987654")
    await expect(page.locator("#control-notice")).to_contain_text("Job run '987654' not found", timeout=20_000)
    assert await detail.count() == 0


async def test_the_monitoring_panel_says_what_each_number_counts(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "viewer@charlie.test")
    panel = page.locator("#jobs-metrics")
    await expect(panel).to_contain_text("succeeded of finished")
    await expect(page.locator("#runs-waiting")).to_contain_text("waiting to retry")
    await expect(page.get_by_text("Queues, all tenants")).to_be_visible()
    await expect(page.locator("#queue-interactive")).to_contain_text("due")
    await expect(page.locator("#scheduled")).to_contain_text(re.compile(r"drain_notifications \(interactive\) in \d+ s"))
    # Runs per minute by status over the last hour, drawn (one trace per final status).
    await expect(page.locator("#throughput-chart .main-svg").first).to_be_visible(timeout=20_000)
    legend = await page.locator("#throughput-chart .legendtext").evaluate_all("els => els.map(e => e.textContent)")
    assert legend == ["succeeded", "failed", "cancelled", "lost"]
