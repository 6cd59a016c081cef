"""Screenshots of the main pages at 1024 and 1440 px for a reviewer to look at, and the layout rules behind them:
the header is one row with tenant, user and Sign out on screen, the page is no wider than the window, the links fold
into a menu at 1024 px, and no page asks for something that is not there (/favicon.ico, issue 21).

The PNGs go to $SG_E2E_SHOTS when set, else to `screens/` in the e2e run's log folder (printed at the end)."""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, Response, WebSocketRoute, expect

from tests.apprunner import PASSWORD, LiveApp, seed_tenants, sg
from tests.conftest import SHARED_DATA
from tests.e2e.conftest import login
from tests.e2e.test_incidents import RITA_HOURS, SENSOR

pytestmark = pytest.mark.e2e
TENANT = "screens"
# The widths a reviewer looks at, and Playwright's default (the other e2e tests click the header's links there).
WIDTHS = (1024, 1280, 1440)
# Each page and what shows that its data has arrived.
PAGES = {
    "overview": "#user-role",
    "drift": "#incident-filter",
    "graph": "#graph-plot .main-svg, #graph-message",
    "policies": "#user-role",
    "jobs": "#jobs-table, #jobs-empty",
    "sources": "#uploads-table, #uploads-empty",
}
HTTP_FLOWS = SHARED_DATA / "hubble/basic-sample-348-http-flows.json"


def shots_folder(app: LiveApp) -> Path:
    """Where screenshots of this e2e run go: $SG_E2E_SHOTS, else `screens/` beside the app's logs."""
    folder = Path(os.environ.get("SG_E2E_SHOTS") or app.log_dir / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _settle(client: httpx.AsyncClient, within: float = 240) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        runs = (await client.get("/api/v1/jobs?limit=500")).json()
        if runs and not [r for r in runs if r["status"] in ("queued", "running", "retrying")]:
            return
        await asyncio.sleep(0.5)
    raise AssertionError("jobs did not settle")


@pytest.fixture(scope="module")
def screens_tenant(live_app: LiveApp) -> str:
    """A tenant with four RITA hours (incidents, drift) and the bookinfo Hubble flows (graph, policies)."""
    seed_tenants(live_app.env, [TENANT])
    token = sg(live_app.env, "token", "create", "--tenant", TENANT, "--role", "admin", "--user", f"admin@{TENANT}.test")

    async def upload() -> None:
        async with httpx.AsyncClient(base_url=live_app.base_url, timeout=60,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            answer = await client.put("/api/v1/settings/home", json={"home_networks": [], "sensors": [SENSOR],
                                                                     "home_private": True})
            assert answer.status_code == 200, answer.text
            for path, fmt in [*[(p, "zeek") for p in RITA_HOURS], (HTTP_FLOWS, "hubble")]:
                answer = await client.post(f"/api/v1/flows?format={fmt}", content=path.read_bytes())
                assert answer.status_code == 202, answer.text
            await _settle(client)
            snapshots = (await client.get("/api/v1/snapshots")).json()
            hubble = [s["id"] for s in snapshots if s.get("source") == "hubble"]
            answer = await client.post("/api/v1/policies/generate", json={"snapshot_ids": hubble})
            assert hubble and answer.status_code == 202, answer.text
            await _settle(client)

    asyncio.run(upload())
    return TENANT


async def _signed_in(browser: Browser, app: LiveApp, width: int) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    missing: list[str] = []

    def note(response: Response) -> None:
        if response.status == 404 and response.url.startswith(app.base_url):
            missing.append(response.url)

    page.on("response", note)
    await page.goto(f"{app.base_url}/login?next=/overview")
    await page.fill("#email", f"admin@{TENANT}.test")
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await expect(page.locator("#user-role")).to_have_text("admin", timeout=20_000)
    return page, missing


async def _check_layout(page: Page, width: int, name: str) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{name} at {width} px is {overflow} px wide"
    header = await page.locator("#app-header").bounding_box()
    assert header is not None and header["height"] < 80, f"{name} at {width} px: the header wraps ({header})"
    for selector in ("#tenant-name", "#user-role", "#sign-out"):
        box = await page.locator(selector).bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, f"{name} at {width} px: {selector} off-screen"
    narrow = width < 1280
    assert await page.locator("#nav-menu-button").is_visible() == narrow
    assert await page.locator("#nav-links").is_visible() == (not narrow)


@pytest.mark.parametrize("width", WIDTHS)
async def test_screenshots_of_the_main_pages_fit_the_window(browser: Browser, live_app: LiveApp,
                                                           screens_tenant: str, width: int) -> None:
    page, missing = await _signed_in(browser, live_app, width)
    folder = shots_folder(live_app)
    for name, ready in PAGES.items():
        await page.goto(f"{live_app.base_url}/{name}")
        await page.wait_for_selector(ready, timeout=30_000)
        await page.wait_for_load_state("networkidle")
        await page.wait_for_timeout(1_500)  # charts draw after their data arrives
        await _check_layout(page, width, name)
        await page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    assert not missing, f"asked for what is not there: {missing}"
    print(f"screenshots in {folder}")


async def test_the_menu_at_1024_px_offers_the_role_s_pages(browser: Browser, live_app: LiveApp) -> None:
    context = await browser.new_context(viewport={"width": 1024, "height": 800})
    page = await context.new_page()
    await page.goto(f"{live_app.base_url}/login?next=/overview")
    await page.fill("#email", "analyst@alpha.test")
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await expect(page.locator("#user-role")).to_have_text("analyst", timeout=20_000)
    await page.click("#nav-menu-button")
    items = page.locator("[id^=navmenu-]")
    await expect(items.first).to_be_visible()
    ids = await items.evaluate_all("items => items.map(i => i.id)")
    assert {"navmenu-overview", "navmenu-jobs", "navmenu-sources"} <= set(ids), ids
    assert not {"navmenu-users", "navmenu-settings", "navmenu-audit-log"} & set(ids), ids
    await page.click("#navmenu-jobs")
    await expect(page).to_have_url(f"{live_app.base_url}/jobs", timeout=20_000)
    await expect(page.locator("#jobs-table, #jobs-empty")).to_be_visible(timeout=20_000)


async def test_an_unknown_address_shows_not_found_inside_the_app(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "viewer@alpha.test", path="/overview")
    answer = await page.goto(f"{live_app.base_url}/no/such/page")
    await expect(page.locator("#not-found")).to_have_text("Page not found", timeout=20_000)
    await expect(page.locator("#nav-overview")).to_be_visible()
    await expect(page.locator("#user-role")).to_have_text("viewer")
    assert "404: Page not found" not in await page.content()
    assert answer is not None
    await page.click("#not-found-overview")
    await expect(page).to_have_url(f"{live_app.base_url}/overview", timeout=20_000)


async def test_an_analyst_typing_the_audit_address_is_told_why_and_gets_no_form(browser: Browser,
                                                                               live_app: LiveApp) -> None:
    page = await login(browser, live_app, "analyst@alpha.test", path="/overview")
    await expect(page.locator("#nav-overview")).to_be_visible(timeout=20_000)
    assert await page.locator("#nav-audit-log, #nav-users").count() == 0
    await page.goto(f"{live_app.base_url}/audit")
    await expect(page.locator("#page-role-refused")).to_contain_text("for the approver role", timeout=20_000)
    assert await page.locator("#audit-filter, #audit-export, #audit-table").count() == 0
    await page.wait_for_timeout(1_000)
    assert await page.locator("#denied").count() == 0, "the refusal is told once, by the page"


async def test_enter_before_the_socket_connects_is_queued_and_signs_in_once_it_does(browser: Browser,
                                                                                      live_app: LiveApp) -> None:
    page = await (await browser.new_context()).new_page()
    # The page's socket is held back: the page says it is connecting, and Enter meanwhile is kept, not lost.
    held: list[WebSocketRoute] = []
    await page.route_web_socket("**/_event**", lambda ws: held.append(ws))
    await page.goto(f"{live_app.base_url}/login?next=/overview")
    button = page.locator("#sign-in")
    await expect(button).to_have_text("Connecting…", timeout=20_000)
    await page.fill("#email", "admin@alpha.test")
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await page.wait_for_timeout(700)
    assert re.fullmatch(rf"{live_app.base_url}/login/?\?next=/overview", page.url), page.url  # no plain request
    assert held, "the page opened no socket"
    held[-1].connect_to_server()
    await expect(page.locator("#user-role")).to_be_visible(timeout=20_000)
    assert page.url.startswith(f"{live_app.base_url}/overview"), page.url


async def test_credentials_typed_and_entered_right_after_navigation_sign_in(browser: Browser, live_app: LiveApp) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live_app.base_url}/login?next=/overview")
    await page.fill("#email", "admin@alpha.test")
    await page.fill("#password", PASSWORD)
    await page.press("#password", "Enter")
    await expect(page.locator("#user-role")).to_be_visible(timeout=20_000)
    assert page.url.startswith(f"{live_app.base_url}/overview"), page.url
