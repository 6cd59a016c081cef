"""Our mark in Chromium: the tab's icon and the header's logo are SecureGuard's own assets, and the header lists
every registered page in order."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, expect

import dashboard.pages  # noqa: F401  (registers every page's header link)
from dashboard.components.shell import NAV
from tests.apprunner import LiveApp
from tests.conftest import ROOT
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

# Every page registered with a header link, in its order (pages added later join without editing this test).
NAV_IDS = [f"nav-{entry.label.lower().replace(' ', '-')}" for entry in sorted(NAV)]
VIEWER_IDS = [f"nav-{entry.label.lower().replace(' ', '-')}" for entry in sorted(NAV) if entry.role == "viewer"]


async def test_the_tab_icon_is_our_logo_and_favicon_ico_is_ours(browser: Browser, live_app: LiveApp) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live_app.base_url}/login")
    icons = page.locator("link[rel~=icon]")
    await expect(icons).to_have_count(1, timeout=20_000)
    assert await icons.get_attribute("href") == "/logo.svg"
    await expect(page.locator("#brand-logo")).to_be_visible()
    async with httpx.AsyncClient(base_url=live_app.base_url) as client:
        logo, ico = await client.get("/logo.svg"), await client.get("/favicon.ico")
    assert logo.status_code == 200 and logo.headers["content-type"].startswith("image/svg+xml")
    assert logo.content == (ROOT / "assets/logo.svg").read_bytes()
    assert ico.status_code == 200 and ico.content == (ROOT / "assets/favicon.ico").read_bytes()


async def test_the_header_shows_the_logo_and_the_registered_pages_in_order(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "admin@alpha.test", path="/overview")
    logo = page.locator("#brand-logo")
    await expect(logo).to_be_visible()
    assert await logo.get_attribute("src") == "/logo.svg"
    # Loaded and drawn, not a broken-image box.
    assert await logo.evaluate("img => img.complete && img.naturalWidth > 0")
    await expect(page.locator("#nav-audit-log")).to_be_visible(timeout=20_000)  # links by role follow the identity
    ids = await page.locator("a[id^=nav-]").evaluate_all("links => links.map(a => a.id)")
    assert ids == NAV_IDS
    assert ids[:2] == ["nav-overview", "nav-graph"] and ids[-3:] == ["nav-users", "nav-settings", "nav-audit-log"]
    await page.click("#nav-sources")
    await expect(page).to_have_url(f"{live_app.base_url}/sources")
    await expect(page.locator("#snapshots-table, #snapshots-empty")).to_be_visible(timeout=20_000)


async def test_a_viewer_is_offered_only_the_pages_a_viewer_can_use(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "viewer@alpha.test", path="/overview")
    await expect(page.locator("#user-role")).to_have_text("viewer", timeout=20_000)
    await expect(page.locator("#nav-overview")).to_be_visible(timeout=20_000)
    ids = await page.locator("a[id^=nav-]").evaluate_all("links => links.map(a => a.id)")
    assert ids == VIEWER_IDS
    assert not {"nav-users", "nav-settings", "nav-audit-log"} & set(ids)
    await page.goto(f"{live_app.base_url}/users")  # typed by hand: told why, no invite form
    await expect(page.locator("#page-role-refused")).to_contain_text("for the admin role", timeout=20_000)
    assert await page.locator("#users-table").count() == 0
    await page.wait_for_timeout(1_000)  # the page's refused loads have answered by now
    assert await page.locator("#denied").count() == 0, "the refusal is told once, by the page"

