"""Browser fixtures: the real app from tests.apprunner, driven by Debian's Chromium."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.apprunner import CHROMIUM_ARGS, PASSWORD, LiveApp, running_app


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Web + worker once for the e2e session, with tenants alpha, bravo, charlie (admin, approver, analyst and viewer each)."""
    with running_app(tmp_path_factory.mktemp("e2e-logs"), ["alpha", "bravo", "charlie"]) as app:
        yield app


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Debian's chromium is required: ./run test installs it"
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def login(browser: Browser, app: LiveApp, email: str, password: str = PASSWORD, path: str = "/jobs") -> Page:
    """A new browser context signed in as `email`, on `path` with its data loaded."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{app.base_url}/login?next={path}")
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.click("#sign-in")
    ready = {"/jobs": "#jobs-table, #jobs-empty", "/sources": "#snapshots-table, #snapshots-empty"}
    await page.wait_for_selector(ready.get(path, "#user-role"), timeout=20_000)
    return page
