"""One Chromium tab shared across sign-out (issue 16, finding 5): tenant A's admin opens a drift event, makes an
API token and loads the graph, signs out; tenant B's admin signs in in the same tab and sees nothing of A.

The unit-level twin, with backend-only vars, is tests/security/test_tab_state.py; this one runs in the e2e
session so it shares its app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from jobs.runtime.connections import close_connections
from models.db import dispose_engines
from models.settings import get_settings
from tests.apprunner import PASSWORD, LiveApp
from tests.e2e.conftest import login
from tests.security.conftest import MARKER, Seeded, seed_tenant

pytestmark = pytest.mark.e2e
SEED_PASSWORD = "correct-horse-1"


@pytest.fixture
async def tenant_a(live_app: LiveApp, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Seeded]:
    """A tenant of the running app whose every text holds MARKER: a snapshot, a drift event, users per role."""
    for name in ("SG_DATABASE_URL", "SG_REDIS_URL", "SG_DATA_DIR"):
        monkeypatch.setenv(name, live_app.env[name])
    get_settings.cache_clear()
    try:
        yield await seed_tenant(f"tab-{MARKER}")
    finally:
        await close_connections()
        await dispose_engines()
        get_settings.cache_clear()


async def _go(page: Page, label: str, ready: str) -> None:
    """Follow a header link (no reload: the tab keeps its state), then wait for the page's content."""
    await page.click(f"#nav-{label}")
    await page.wait_for_url(f"**/{label}**", timeout=20_000)
    await page.wait_for_selector(ready, timeout=20_000)


async def test_the_next_tenant_in_the_same_tab_sees_nothing_of_the_first(browser: Browser, live_app: LiveApp,
                                                                          tenant_a: Seeded) -> None:
    page = await login(browser, live_app, tenant_a.email("admin"), SEED_PASSWORD,
                       path=f"/drift?event={tenant_a.ids['event']}")
    await expect(page.locator("#event-explanation")).to_contain_text(MARKER, timeout=20_000)
    await page.keyboard.press("Escape")
    await _go(page, "sources", "#token-create")
    await page.fill("#token-name", f"{MARKER}-collector")
    await page.click("#token-create")
    secret = (await page.locator("#token-secret").inner_text(timeout=20_000)).strip()
    assert secret.startswith("sg_")
    await _go(page, "graph", "#graph-plot .main-svg")
    await expect(page.locator("#graph-plot")).to_contain_text(MARKER, timeout=20_000)

    await page.click("#sign-out")
    await page.wait_for_url("**/login**", timeout=20_000)
    await page.fill("#email", "admin@bravo.test")
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await expect(page.locator("#tenant-name")).to_have_text("bravo", timeout=20_000)

    await _go(page, "drift", "#incident-filter")
    assert await page.locator("#event-explanation").count() == 0
    assert await page.locator("#incident-detail").count() == 0
    assert MARKER not in await page.content()
    await _go(page, "sources", "#token-create")
    assert await page.locator("#token-secret").count() == 0
    await _go(page, "graph", "#graph-plot, #graph-message")
    shown = await page.content()
    assert MARKER not in shown and secret not in shown
    try:
        async with page.expect_download(timeout=5_000) as download_info:
            await page.click("#graph-download-json", timeout=5_000)
        graph = (await (await download_info.value).path()).read_text()
    except PlaywrightTimeout:
        graph = ""  # bravo has no snapshot yet: nothing to download, and nothing of A either
    assert MARKER not in graph


async def test_a_role_too_low_is_told_why_once_by_the_page(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "viewer@alpha.test", path="/users")
    await expect(page.locator("#page-role-refused")).to_contain_text(
        "This page is for the admin role and above; your role is viewer", timeout=20_000)
    await page.wait_for_timeout(1_000)  # the page's refused loads have answered by now
    await page.screenshot(path=str(live_app.log_dir / "page-refused.png"))
    assert await page.locator("#denied").count() == 0, "the shell's banner would say it a second time"
