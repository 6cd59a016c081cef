"""Single sign-on in Chromium through a real OpenID Provider (npm oidc-provider, started by tests/e2e/conftest.py).

The user signs in on the provider's own login form; tenant and role come from its `tenant` and `groups` claims.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.apprunner import LiveApp
from tests.e2e.conftest import login
from tests.oidc.launcher import OidcProvider

pytestmark = pytest.mark.e2e


async def new_context(browser: Browser) -> BrowserContext:
    context = await browser.new_context()
    # The provider's stock pages @import a web font; there is no internet here and nothing needs it.
    await context.route(re.compile(r"^https://fonts\.(googleapis|gstatic)\.com/"), lambda route: route.abort())
    return context


async def sso_login(browser: Browser, app: LiveApp, provider: OidcProvider, account: str,
                    path: str = "/jobs") -> tuple[Page, str]:
    """Click "Sign in with SSO", sign in on the provider's form; the page (signed in) and the callback URL used."""
    page = await (await new_context(browser)).new_page()
    callbacks: list[str] = []
    page.on("request", lambda request: callbacks.append(request.url) if "/auth/oidc/callback" in request.url else None)
    await page.goto(f"{app.base_url}/login?next={path}")
    await page.click("#sign-in-sso")
    await page.wait_for_url(f"{provider.issuer}/interaction/**", wait_until="domcontentloaded", timeout=20_000)
    await page.fill("input[name=login]", account)
    await page.fill("input[name=password]", "any-password")
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(rf"^{re.escape(app.base_url + path)}/?$"), timeout=20_000)
    await expect(page.locator("#user-role")).to_be_visible(timeout=20_000)
    assert len(callbacks) == 1
    return page, callbacks[0]


async def fresh_callback(context: BrowserContext, app: LiveApp) -> str:
    """Start another sign-in with the browser's cookies and stop at the provider's answer, without using it."""
    started = await context.request.get(f"{app.base_url}/auth/oidc/login?next=/jobs", max_redirects=0)
    assert started.status == 303
    answered = await context.request.get(started.headers["location"], max_redirects=0)
    location = answered.headers["location"]
    assert location.startswith(f"{app.base_url}/auth/oidc/callback?"), location
    return location


async def test_the_login_page_offers_sso_beside_the_password_form(browser: Browser, live_app: LiveApp) -> None:
    page = await browser.new_page()
    await page.goto(f"{live_app.base_url}/login")
    await expect(page.locator("#sign-in-sso")).to_be_visible(timeout=20_000)
    for selector in ("#email", "#password", "#sign-in"):
        await expect(page.locator(selector)).to_be_visible()
    await page.close()


async def test_sso_login_lands_signed_in_with_tenant_and_role_from_the_claims(
    browser: Browser, live_app: LiveApp, oidc_provider: OidcProvider,
) -> None:
    page, _ = await sso_login(browser, live_app, oidc_provider, "ana@alpha")
    await expect(page.locator("#tenant-name")).to_have_text("alpha")
    await expect(page.locator("#user-role")).to_have_text("approver")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["sg_session"]["httpOnly"] is True and cookies["sg_session"]["sameSite"] == "Lax"
    await page.context.close()


async def test_local_accounts_keep_working_with_sso_on(browser: Browser, live_app: LiveApp) -> None:
    local = await login(browser, live_app, "viewer@alpha.test")
    await expect(local.locator("#user-role")).to_have_text("viewer")
    await local.context.close()


async def test_a_bravo_user_lands_in_bravo_and_sees_none_of_alpha(
    browser: Browser, live_app: LiveApp, oidc_provider: OidcProvider,
) -> None:
    alpha, _ = await sso_login(browser, live_app, oidc_provider, "adam@alpha")
    await expect(alpha.locator("#user-role")).to_have_text("admin")
    await alpha.wait_for_selector("#jobs-table, #jobs-empty", timeout=20_000)
    await alpha.click("#trigger-ping")
    await expect(alpha.locator("#jobs-notice")).to_contain_text("Queued ping #")
    alpha_run = re.search(r"#(\d+)", await alpha.locator("#jobs-notice").inner_text()).group(1)  # type: ignore[union-attr]
    await expect(alpha.locator(f"#job-{alpha_run}")).to_be_visible()

    bravo, _ = await sso_login(browser, live_app, oidc_provider, "bob@bravo")
    await expect(bravo.locator("#tenant-name")).to_have_text("bravo")
    await expect(bravo.locator("#user-role")).to_have_text("analyst")
    await bravo.wait_for_selector("#jobs-table, #jobs-empty", timeout=20_000)
    await expect(bravo.locator(f"#job-{alpha_run}")).to_have_count(0)
    await alpha.context.close()
    await bravo.context.close()


async def test_an_unknown_tenant_is_refused_with_a_clear_page(
    browser: Browser, live_app: LiveApp, oidc_provider: OidcProvider,
) -> None:
    page = await (await new_context(browser)).new_page()
    await page.goto(f"{live_app.base_url}/login")
    await page.click("#sign-in-sso")
    await page.wait_for_url(f"{oidc_provider.issuer}/interaction/**", wait_until="domcontentloaded", timeout=20_000)
    await page.fill("input[name=login]", "zoe@zulu")
    await page.fill("input[name=password]", "any-password")
    await page.click("button[type=submit]")
    await expect(page.locator("#sso-error")).to_contain_text("no SecureGuard tenant named 'zulu'", timeout=20_000)
    assert "sg_session" not in {c["name"] for c in await page.context.cookies()}
    await page.context.close()


async def test_sso_logout_ends_the_session_here_and_at_the_provider(
    browser: Browser, live_app: LiveApp, oidc_provider: OidcProvider,
) -> None:
    page, _ = await sso_login(browser, live_app, oidc_provider, "ana@alpha")
    # the header's own "Sign out" sends an SSO user through the provider's logout too
    await page.click("#sign-out")
    await page.wait_for_url(f"{oidc_provider.issuer}/session/end**", wait_until="domcontentloaded", timeout=20_000)
    await page.click("button[name=logout][value=yes]")
    await page.wait_for_url(re.compile(r"/login/?\?error=logged_out"), timeout=20_000)
    await expect(page.locator("#login-message")).to_have_text("You are signed out.", timeout=20_000)
    await page.goto(f"{live_app.base_url}/jobs")
    await page.wait_for_url(re.compile(r"/login"), timeout=20_000)
    # The provider's session is gone too: SSO asks for the login form again.
    await page.click("#sign-in-sso")
    await page.wait_for_url(f"{oidc_provider.issuer}/interaction/**", wait_until="domcontentloaded", timeout=20_000)
    await expect(page.locator("input[name=login]")).to_be_visible()
    await page.context.close()


async def test_a_tampered_state_is_refused_and_the_genuine_answer_works(
    browser: Browser, live_app: LiveApp, oidc_provider: OidcProvider,
) -> None:
    page, _ = await sso_login(browser, live_app, oidc_provider, "ana@alpha")
    genuine = await fresh_callback(page.context, live_app)
    state = parse_qs(urlsplit(genuine).query)["state"][0]
    await page.goto(genuine.replace(f"state={state}", f"state={state[:-3]}abc"))
    await expect(page.locator("#sso-error")).to_contain_text("does not match a sign-in started in this browser")
    await page.goto(genuine)
    await page.wait_for_url(re.compile(rf"^{re.escape(live_app.base_url)}/jobs/?$"), timeout=20_000)
    await expect(page.locator("#user-role")).to_have_text("approver", timeout=20_000)
    await page.context.close()


async def test_a_replayed_authorization_code_is_refused(
    browser: Browser, live_app: LiveApp, oidc_provider: OidcProvider,
) -> None:
    page, used = await sso_login(browser, live_app, oidc_provider, "ana@alpha")
    used_code = parse_qs(urlsplit(used).query)["code"][0]
    # A valid, unused state of this browser, carrying the code the first sign-in already redeemed.
    fresh = await fresh_callback(page.context, live_app)
    fresh_code = parse_qs(urlsplit(fresh).query)["code"][0]
    await page.context.clear_cookies(name="sg_session")
    await page.goto(fresh.replace(f"code={fresh_code}", f"code={used_code}"))
    await expect(page.locator("#sso-error")).to_contain_text("refused the authorization code (invalid_grant)")
    assert "sg_session" not in {c["name"] for c in await page.context.cookies()}
    await page.context.close()
