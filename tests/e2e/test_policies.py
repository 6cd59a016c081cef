"""The Policies page in Chromium on real Hubble bookinfo flows: pick a period, generate live, see what each
policy was learned from, submit, review with YAML, proof and impact, approve; the submitter sees Approve
disabled with the four-eyes reason. Zeek-only windows give "0 policies" in words; a bad policy id says so."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.apprunner import LiveApp, sg
from tests.conftest import SHARED_DATA
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
BOOKINFO = SHARED_DATA / "hubble" / "basic-sample-400-l7-redirected-flows.json"
BOOKINFO_COVERAGE = '[id="coverage-kind-kind/bookinfo"]'
ZEEK_HOUR = SHARED_DATA / "zeek" / "rita-missing-host" / "2024-04-21" / "conn.23_00_00-00_00_00.log.gz"


async def _settle(client: httpx.AsyncClient, headers: dict[str, str], within: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        runs = (await client.get("/api/v1/jobs?limit=500", headers=headers)).json()
        if not [r for r in runs if r["status"] in ("queued", "running", "retrying")]:
            return
        await asyncio.sleep(0.5)
    raise AssertionError("jobs did not settle")


@pytest.fixture(scope="module")
def delta_flows(live_app: LiveApp) -> str:
    """Tenant delta's bookinfo flows ingested into one snapshot; returns an analyst token."""
    token = sg(live_app.env, "token", "create", "--tenant", "delta", "--role", "analyst")

    async def push() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=live_app.base_url, timeout=30) as client:
            answer = await client.post("/api/v1/flows?format=hubble", content=BOOKINFO.read_bytes(), headers=headers)
            assert answer.status_code == 202, answer.text
            await _settle(client, headers)

    asyncio.run(push())
    return token


async def _open(page: Page, name: str) -> None:
    await page.locator("#policies-table tr", has_text=name).get_by_role("button", name="Review").click()
    await expect(page.locator("#policy-title")).to_contain_text(name, timeout=10_000)


async def _close(page: Page) -> None:
    await page.get_by_role("dialog").get_by_role("button", name="Close").click()
    await expect(page.get_by_role("dialog")).to_have_count(0, timeout=10_000)


async def _coverage_drawn(page: Page, namespace: str) -> None:
    """The coverage plot holds a bar labelled `namespace` and plotly drew it."""
    await page.wait_for_function(
        "(ns) => { const gd = document.querySelector('#coverage-chart.js-plotly-plot, #coverage-chart .js-plotly-plot');"
        " return gd && gd.data && gd.data.length === 1 && gd.data[0].y.includes(ns) && gd.querySelector('.main-svg'); }",
        arg=namespace, timeout=20_000)


async def _confirm(page: Page, button: str, reason: str = "") -> None:
    await page.click(button)
    if reason:
        await page.fill("#policy-reason", reason)
    await page.click("#policy-confirm")


async def test_generate_submit_review_and_approve(browser: Browser, live_app: LiveApp, delta_flows: str) -> None:
    admin = await login(browser, live_app, "admin@delta.test", path="/policies")
    await expect(admin.locator("#policies-empty")).to_be_visible(timeout=20_000)
    await expect(admin.locator("#generate-available")).to_contain_text("1 hold Kubernetes workloads", timeout=20_000)
    # The period offered by default covers the windows there are (here the one bookinfo hour of 2021).
    await expect(admin.locator("#generate-start")).to_have_value("2021-11-10T10:00", timeout=10_000)
    await admin.click("#policy-generate")
    # The job's result arrives live: the table fills without a reload.
    await expect(admin.locator("#policies-message")).to_contain_text("Generated", timeout=30_000)
    await expect(admin.locator("#policies-message")).to_contain_text("from 1 of 1 window(s) holding workloads")
    await expect(admin.locator("#policies-table")).to_contain_text("sg-reviews-v2")
    # Each policy says what it was learned from, and that this is below the tenant's 24 h minimum.
    await expect(admin.locator("#policies-table")).to_contain_text("flows in 1 window(s)")
    await expect(admin.locator("#policies-table")).to_contain_text("too short")
    await admin.screenshot(path=str(live_app.log_dir / "policies-generated.png"), full_page=True)
    # the capture's pods are in cluster kind-kind: coverage is per (cluster, namespace), named kind-kind/bookinfo
    await expect(admin.locator(BOOKINFO_COVERAGE)).to_contain_text("0 of")
    # the coverage plot (state.figures.coverage_figure) is drawn: a bar per namespace, and nothing covered yet
    await _coverage_drawn(admin, "kind-kind/bookinfo")
    await expect(admin.locator("#coverage-chart")).to_contain_text("No data to draw")

    for name in ("sg-details-v1", "sg-ratings-v1"):
        await _open(admin, name)
        await _confirm(admin, "#policy-submit", "ready for review")
        await expect(admin.locator("#policy-notice")).to_have_text("Policy submitted.", timeout=10_000)
        await _close(admin)

    # The submitter sees Approve disabled, with the reason, before trying.
    await _open(admin, "sg-ratings-v1")
    await expect(admin.locator("#policy-approve")).to_be_disabled(timeout=10_000)
    await expect(admin.locator("#policy-approve-blocked")).to_contain_text("You submitted this policy")
    await expect(admin.locator("#policy-brief")).to_contain_text("Observed only briefly")
    await expect(admin.get_by_role("dialog")).to_contain_text("pending")
    await admin.screenshot(path=str(live_app.log_dir / "policy-self-approve.png"), full_page=True)

    approver = await login(browser, live_app, "approver@delta.test", path="/policies")
    await _open(approver, "sg-details-v1")
    dialog = approver.get_by_role("dialog")
    await expect(dialog).to_contain_text("pending")
    await expect(approver.locator("#policy-yaml")).to_contain_text("kind: NetworkPolicy")
    await expect(approver.locator("#policy-yaml")).to_contain_text("app: details")
    await expect(approver.locator("#policy-proof")).to_contain_text("Allows exactly the")
    await expect(approver.locator("#policy-impact-summary")).to_contain_text(
        "Blocks none of the traffic in the 1 newest window(s) holding workloads of bookinfo")
    await approver.screenshot(path=str(live_app.log_dir / "policy-review.png"), full_page=True)
    await approver.click("#policy-approve")
    await expect(approver.get_by_role("alertdialog")).to_contain_text("Blocks none of the traffic")
    await approver.click("#policy-confirm")
    await expect(approver.locator("#policy-notice")).to_contain_text("Policy approved.", timeout=10_000)
    await expect(approver.locator("#policy-notice")).to_contain_text("GitOps is not configured")
    await expect(dialog).to_contain_text("approved")
    await expect(approver.locator("#policy-reviews")).to_contain_text("admin@delta.test")

    # A rejection needs a reason; the page says so instead of failing silently.
    await _close(approver)
    await _open(approver, "sg-ratings-v1")
    await _confirm(approver, "#policy-reject", "not now")
    await expect(approver.locator("#policy-notice")).to_have_text("Policy rejected.", timeout=10_000)

    viewer = await login(browser, live_app, "viewer@delta.test", path="/policies")
    await expect(viewer.locator("#policies-table")).to_contain_text("sg-details-v1", timeout=20_000)
    await expect(viewer.locator("#policy-generate")).to_have_count(0)
    await expect(viewer.locator(BOOKINFO_COVERAGE)).not_to_contain_text(" 0 of", timeout=10_000)
    await _coverage_drawn(viewer, "kind-kind/bookinfo")
    await expect(viewer.locator("#coverage-chart")).not_to_contain_text("No data to draw")
    bravo = await login(browser, live_app, "admin@bravo.test", path="/policies")
    await expect(bravo.locator("#policies-empty")).to_be_visible(timeout=20_000)


async def test_zeek_windows_give_zero_policies_in_words_and_a_bad_id_is_not_found(
    browser: Browser, live_app: LiveApp
) -> None:
    token = sg(live_app.env, "token", "create", "--tenant", "charlie", "--role", "analyst")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=live_app.base_url, timeout=30) as client:
        answer = await client.post("/api/v1/flows?format=zeek", content=ZEEK_HOUR.read_bytes(), headers=headers)
        assert answer.status_code == 202, answer.text
        await _settle(client, headers)
    admin = await login(browser, live_app, "admin@charlie.test", path="/policies")
    await expect(admin.locator("#generate-available")).to_contain_text("0 hold Kubernetes workloads", timeout=20_000)
    await expect(admin.locator("#coverage-empty")).to_contain_text("none holding Kubernetes workloads")
    await admin.click("#generate-mode-newest")
    await admin.fill("#generate-last", "1")
    await admin.click("#policy-generate")
    await expect(admin.locator("#policies-message")).to_contain_text(
        "0 policies: these 1 snapshot(s) have no workloads", timeout=30_000)
    await admin.screenshot(path=str(live_app.log_dir / "policies-zero.png"), full_page=True)
    await admin.goto(f"{live_app.base_url}/policies?policy=999999")
    await expect(admin.locator("#policy-not-found")).to_contain_text("policy 999999 not found", timeout=20_000)
