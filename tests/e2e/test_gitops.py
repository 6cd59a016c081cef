"""The GitOps page in Chromium: validation, save with a write-only token, connection test against a real
bare repository, the pull request table updating live, and read-only settings for non-admins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from jobs.runtime.events import publish_event
from models.db import dispose_engines, session_scope
from models.policy import Policy, PullRequest
from models.queries import tenancy
from tests.apprunner import E2E_REDIS_URL, LiveApp
from tests.e2e.conftest import login
from tests.fakes.gitops_fixtures import POLICY_YAML, make_bare_repo

pytestmark = pytest.mark.e2e
SECRET = "ghp_E2eSecretToken1234567890"


async def _add_pull(app: LiveApp, tenant: str) -> tuple[int, int]:
    async with session_scope(app.database_url) as session:
        tenant_id = (await tenancy.get_tenant_by_name(session, name=tenant)).id or 0
        policy = Policy(tenant_id=tenant_id, name="reviews", namespace="bookinfo", yaml=POLICY_YAML, status="approved")
        session.add(policy)
        await session.flush()
        pull = PullRequest(tenant_id=tenant_id, policy_id=policy.id or 0, number=7, state="open",
                           branch="secureguard/bookinfo-reviews-v1", url="https://github.test/acme/netpol/pull/7")
        session.add(pull)
    return tenant_id, policy.id or 0


async def test_admin_configures_gitops_and_sees_pull_requests_live(
    browser: Browser, live_app: LiveApp, tmp_path: Path
) -> None:
    bare = make_bare_repo(tmp_path)
    page = await login(browser, live_app, "admin@charlie.test", path="/gitops")
    await expect(page.locator("#gitops-save")).to_be_visible(timeout=20_000)
    await expect(page.locator("#pulls-empty")).to_be_visible()

    await page.fill("#gitops-repo", "relative/repo")
    await page.click("#gitops-save")
    await expect(page.locator("#gitops-message")).to_contain_text("Not saved: repository must be", timeout=10_000)
    await page.fill("#gitops-repo", "https://169.254.169.254/latest/meta-data")
    await page.click("#gitops-save")
    await expect(page.locator("#gitops-message")).to_contain_text(
        "Not saved: host '169.254.169.254' is not allowed: repository must be an https:// URL on an allowed host",
        timeout=10_000)
    await page.fill("#gitops-repo", "git@github.com:acme/netpol.git")
    await page.click("#gitops-save")
    await expect(page.locator("#gitops-message")).to_contain_text("Not saved: ssh is not supported", timeout=10_000)
    await expect(page.locator("#gitops-state")).to_have_text("not configured")

    await page.fill("#gitops-repo", str(bare))
    await page.click("#gitops-save")
    await expect(page.locator("#gitops-message")).to_have_text("Settings saved.", timeout=10_000)
    await expect(page.locator("#gitops-state")).to_have_text("configured")
    await page.click("#gitops-test")
    checks = page.locator("#gitops-checks")
    await expect(checks).to_contain_text("git reaches the repository and its base branch 'main'", timeout=20_000)
    await expect(checks).to_contain_text("no token set")

    await page.fill("#gitops-token", SECRET)
    await page.click("#gitops-save")
    await expect(page.locator("#gitops-message")).to_contain_text("The token was replaced.", timeout=10_000)
    await expect(page.locator("#gitops-token")).to_have_value("")
    await expect(page.locator("#gitops-token")).to_have_attribute("placeholder", "•••••• set — type to replace")
    assert SECRET not in await page.content()

    tenant_id, policy_id = await _add_pull(live_app, "charlie")
    redis = Redis.from_url(E2E_REDIS_URL)
    try:
        await publish_event(redis, tenant_id=tenant_id, kind="policy.updated",
                            data={"id": policy_id, "status": "approved"})
    finally:
        await redis.aclose()
        await dispose_engines()
    row = page.locator("#pulls-table tbody tr", has_text="bookinfo/reviews")
    await expect(row).to_be_visible(timeout=10_000)
    await expect(row.locator(".pull-state")).to_have_text("open")
    await expect(row.locator(".pull-link a")).to_have_attribute("href", "https://github.test/acme/netpol/pull/7")

    async with page.expect_download(timeout=10_000) as single:
        await row.locator(".pull-download button, button.pull-download").first.click()
    download = await single.value
    assert download.suggested_filename == "bookinfo-reviews.yaml"
    assert Path(await download.path()).read_text() == POLICY_YAML
    async with page.expect_download(timeout=10_000) as bundle:
        await page.click("#download-bundle")
    text = Path(await (await bundle.value).path()).read_text()
    assert re.match(r"# SecureGuard NetworkPolicies of tenant charlie: \d+ approved or deployed", text)
    assert "# bookinfo/reviews v1 (approved)" in text and "kind: NetworkPolicy" in text

    viewer = await login(browser, live_app, "viewer@charlie.test", path="/gitops")
    await expect(viewer.locator("#gitops-summary")).to_contain_text("set up by an admin", timeout=20_000)
    assert str(bare) not in await viewer.content()  # the repository's address is for admins, as over REST
    await expect(viewer.locator("#gitops-save")).to_have_count(0)
    await expect(viewer.locator("#pulls-table")).to_contain_text("#7")
    assert SECRET not in await viewer.content()
