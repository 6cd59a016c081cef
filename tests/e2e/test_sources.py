"""The Sources page in Chromium: upload real flow files, see counts and bad lines, snapshots live, tokens."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.apprunner import PASSWORD, LiveApp, seed_tenants, sg
from tests.conftest import SHARED_DATA
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


async def test_upload_shows_counts_bad_lines_and_new_snapshots_live(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "admin@alpha.test", path="/sources")
    await expect(page.locator("#upload-button")).to_be_visible(timeout=20_000)
    await page.evaluate("window.__noReload = true")
    await page.set_input_files("#flow-files input[type=file]", [
        str(SHARED_DATA / "hubble/basic-sample-348-http-flows.json"), str(SHARED_DATA / "zeek/rita-truncated/conn.log")])
    await page.click("#upload-button")
    # "Queued #…" or, with a fast worker, already how each ended: either names both uploads' numbers.
    await expect(page.locator("#upload-message")).to_have_text(re.compile(r"#\d+ .*#\d+ "), timeout=20_000)
    ids = re.findall(r"#(\d+) ", await page.locator("#upload-message").inner_text())
    hubble, zeek = page.locator(f"#upload-{ids[0]}"), page.locator(f"#upload-{ids[1]}")
    await expect(zeek.locator(".upload-status")).to_have_text("ingested", timeout=20_000)
    await expect(zeek.locator(".upload-accepted")).to_have_text("58")
    await expect(zeek.locator(".upload-rejected")).to_have_text("1")
    await expect(zeek.locator(".upload-errors")).to_contain_text("line 67")
    await expect(hubble.locator(".upload-status")).to_have_text("ingested", timeout=20_000)
    # Half of a Hubble capture is replies: the count says why (issue 21).
    # the one reason states the count: the cell does not say 173 twice
    await expect(hubble.locator(".upload-skipped")).to_have_text(
        "173 replies (the request of the same connection already gives the edge)", timeout=20_000)
    # Once both are parsed the message says how each ended, not "Queued".
    await expect(page.locator("#upload-message")).to_contain_text(f"#{ids[1]} conn.log ingested: 58 flows accepted")
    # Two windows (2021 Hubble, 2018 Zeek) arrive as snapshot.built events, without a reload.
    await expect(page.locator("#snapshots-table tbody tr")).to_have_count(2, timeout=20_000)
    await expect(page.locator("#snapshots-table")).to_contain_text("2021-10-04 14:00")
    assert await page.evaluate("window.__noReload === true")


async def test_a_png_is_rejected_with_its_reason(browser: Browser, live_app: LiveApp, tmp_path: object) -> None:
    page = await login(browser, live_app, "admin@bravo.test", path="/sources")
    await expect(page.locator("#upload-button")).to_be_visible(timeout=20_000)
    await page.set_input_files("#flow-files input[type=file]", files=[
        {"name": "diagram.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 200}])
    await page.click("#upload-button")
    # No wait for the blue "Queued #…": a fast worker rejects the file before the test can read that passing state.
    row = page.locator("#uploads-table tbody tr").first
    await expect(row.locator(".upload-status")).to_have_text("rejected", timeout=20_000)
    await expect(row.locator(".upload-errors")).to_contain_text("PNG")
    # The blue "Queued…" turns into a red message naming the refusal (issue 21).
    message = page.locator("#upload-message")
    await expect(message).to_contain_text("diagram.png was rejected, nothing of it was kept", timeout=20_000)
    await expect(message).not_to_contain_text("Queued")
    assert await message.get_attribute("data-accent-color") == "red"


async def test_admin_creates_a_token_that_works_then_revokes_it(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "admin@alpha.test", path="/sources")
    await page.fill("#token-name", "e2e-collector")
    await page.click("#token-create")
    secret = (await page.locator("#token-secret").inner_text(timeout=20_000)).strip()
    assert secret.startswith("sg_")
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(base_url=live_app.base_url) as client:
        assert (await client.get("/api/v1/snapshots", headers=headers)).status_code == 200
        row = page.locator("#tokens-table tbody tr", has_text="e2e-collector")
        await row.get_by_role("button", name="Revoke").click()
        await page.click("#token-revoke-confirm")
        await expect(row).to_contain_text("revoked", timeout=10_000)
        assert (await client.get("/api/v1/snapshots", headers=headers)).status_code == 401


async def test_viewer_sees_no_upload_or_tokens(browser: Browser, live_app: LiveApp) -> None:
    page = await login(browser, live_app, "viewer@alpha.test", path="/sources")
    await expect(page.locator("#snapshots-table, #snapshots-empty").first).to_be_visible(timeout=20_000)
    assert await page.locator("#upload-button").count() == 0
    assert await page.locator("#token-create").count() == 0


async def test_a_rest_upload_without_a_file_name_is_named_by_what_it_is(browser: Browser, live_app: LiveApp) -> None:
    seed_tenants(live_app.env, ["restnamed"], roles=("admin",))
    token = sg(live_app.env, "token", "create", "--tenant", "restnamed", "--role", "analyst")
    conn = SHARED_DATA / "zeek/rita-truncated/conn.log"
    async with httpx.AsyncClient(base_url=live_app.base_url, timeout=30) as client:
        answer = await client.post("/api/v1/flows?format=zeek", content=conn.read_bytes(),
                                   headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 202, answer.text
    page = await login(browser, live_app, "admin@restnamed.test", PASSWORD, path="/sources")
    upload = page.locator("#uploads-table tbody tr").first
    await expect(upload).to_contain_text(re.compile(r"REST upload \d{4}-\d\d-\d\d \d\d:\d\d \(zeek\w*, \d+(\.\d)? KB\)"),
                                         timeout=20_000)
    assert "api-upload" not in await page.locator("#uploads-table").inner_text()
