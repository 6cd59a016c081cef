"""Browser fixtures: the real app from tests.apprunner, driven by Debian's Chromium."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.apprunner import CHROMIUM_ARGS, PASSWORD, LiveApp, free_port, running_app
from tests.oidc.launcher import OidcProvider, running_provider


@pytest.fixture(scope="session")
def web_port() -> int:
    """The e2e app's port, chosen first so the OpenID Provider can register the app's callback URL."""
    return free_port()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory, web_port: int) -> Iterator[OidcProvider]:
    """A real OpenID Provider (npm oidc-provider, tests/oidc) on loopback; the e2e app signs in through it."""
    app_url = f"http://localhost:{web_port}"
    with running_provider(port=free_port(), redirect_uri=f"{app_url}/auth/oidc/callback",
                          post_logout_redirect_uri=f"{app_url}/login?error=logged_out",
                          log_path=tmp_path_factory.mktemp("oidc-logs") / "provider.log") as provider:
        yield provider


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory, oidc_provider: OidcProvider, web_port: int) -> Iterator[LiveApp]:
    """Web + worker once for the e2e session, with tenants alpha, bravo, charlie, delta (admin, approver, analyst and viewer each).

    Single sign-on is on (through `oidc_provider`); local accounts work beside it.
    """
    # GitOps pages test against local bare repositories, which only an operator setting allows.
    # Notification tests send to receivers on loopback, which only SG_NOTIFY_ALLOWED_HOSTS allows.
    extra_env = {**oidc_provider.env(), "SG_WEB_PORT": str(web_port), "SG_GITOPS_ALLOW_LOCAL": "true",
                 "SG_NOTIFY_ALLOWED_HOSTS": "127.0.0.1"}
    with running_app(tmp_path_factory.mktemp("e2e-logs"), ["alpha", "bravo", "charlie", "delta"], extra_env=extra_env) as app:
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
