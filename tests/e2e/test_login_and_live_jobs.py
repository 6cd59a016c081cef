"""Log in, trigger ping, watch it live; tenants see only their own events; bad passwords are told."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.apprunner import PASSWORD, LiveApp
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


async def test_protected_pages_send_you_to_login(browser: Browser, live_app: LiveApp) -> None:
    page = await browser.new_page()
    await page.goto(f"{live_app.base_url}/jobs")
    await page.wait_for_url(re.compile(r"/login"), timeout=20_000)
    await expect(page.locator("#sign-in")).to_be_visible()


async def test_wrong_password_shows_a_clear_message(browser: Browser, live_app: LiveApp) -> None:
    page = await browser.new_page()
    await page.goto(f"{live_app.base_url}/login")
    await page.fill("#email", "admin@alpha.test")
    await page.fill("#password", "not-the-password")
    await page.click("#sign-in")
    await expect(page.locator("#login-message")).to_have_text("Wrong email or password.", timeout=10_000)
    assert "/login" in page.url


async def test_repeated_failures_lock_the_account(browser: Browser, live_app: LiveApp) -> None:
    page = await browser.new_page()
    await page.goto(f"{live_app.base_url}/login")
    await page.fill("#email", "viewer@bravo.test")
    for _ in range(5):
        await page.fill("#password", "guess-guess")
        await page.click("#sign-in")
        await expect(page.locator("#login-message")).to_be_visible(timeout=10_000)
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await expect(page.locator("#login-message")).to_contain_text("Too many failed sign-in attempts", timeout=10_000)


async def test_ping_status_changes_live_and_session_survives_reload(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "admin@alpha.test")
    await expect(page.locator("#tenant-name")).to_have_text("alpha")
    await page.evaluate("window.__noReload = true")
    await page.click("#trigger-ping")
    notice = page.locator("#jobs-notice")
    await expect(notice).to_contain_text("Queued ping #")
    run_id = re.search(r"#(\d+)", await notice.inner_text()).group(1)  # type: ignore[union-attr]
    row = page.locator(f"#job-{run_id}")
    await expect(row.locator(".job-status")).to_have_text("succeeded", timeout=10_000)
    assert await page.evaluate("window.__noReload === true"), "the page reloaded"
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["sg_session"]["httpOnly"] is True

    await page.reload()
    await expect(page.locator(f"#job-{run_id} .job-status")).to_have_text("succeeded", timeout=20_000)
    await page.click("#sign-out")
    await page.wait_for_url(re.compile(r"/login"), timeout=20_000)
    await page.goto(f"{live_app.base_url}/jobs")
    await page.wait_for_url(re.compile(r"/login"), timeout=20_000)


async def test_two_tenants_each_see_only_their_own_live_events(browser: Browser, live_app: LiveApp) -> None:
    alpha = await login(browser, live_app, "admin@alpha.test")
    bravo = await login(browser, live_app, "admin@bravo.test")
    bravo_before = int((await bravo.locator("#live-count").inner_text()).split()[-1])

    await alpha.click("#trigger-ping")
    await expect(alpha.locator("#jobs-notice")).to_contain_text("Queued ping #")
    alpha_run = re.search(r"#(\d+)", await alpha.locator("#jobs-notice").inner_text()).group(1)  # type: ignore[union-attr]
    await expect(alpha.locator(f"#job-{alpha_run} .job-status")).to_have_text("succeeded", timeout=10_000)

    await bravo.click("#trigger-ping")
    await expect(bravo.locator("#jobs-notice")).to_contain_text("Queued ping #")
    bravo_run = re.search(r"#(\d+)", await bravo.locator("#jobs-notice").inner_text()).group(1)  # type: ignore[union-attr]
    await expect(bravo.locator(f"#job-{bravo_run} .job-status")).to_have_text("succeeded", timeout=10_000)

    # Each page got its own tenant's ping events (queued, running, progress…, succeeded) and no others.
    assert await bravo.locator(f"#job-{alpha_run}").count() == 0
    assert await alpha.locator(f"#job-{bravo_run}").count() == 0
    bravo_after = int((await bravo.locator("#live-count").inner_text()).split()[-1])
    alpha_texts = await alpha.locator("#jobs-table").inner_text()
    assert f"\n{bravo_run}\t" not in alpha_texts
    # Bravo's count grew only by its own job's events: alpha's would have arrived first.
    assert bravo_after - bravo_before >= 3


async def test_viewer_cannot_trigger_ping(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "viewer@alpha.test")
    await expect(page.locator("#user-role")).to_have_text("viewer")
    assert await page.locator("#trigger-ping").count() == 0
