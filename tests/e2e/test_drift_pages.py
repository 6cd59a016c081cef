"""Overview and Drift events in Chromium, on real RITA Zeek hours pushed through the REST API."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.apprunner import LiveApp, sg
from tests.conftest import SHARED_DATA
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
HOURS = sorted((SHARED_DATA / "zeek/rita-missing-host/2024-04-19").glob("*.log.gz"))


async def _push_and_wait(app: LiveApp, token: str, files: list, within: float = 120) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=app.base_url, timeout=30) as client:
        for path in files:
            answer = await client.post("/api/v1/flows?format=zeek", content=path.read_bytes(), headers=headers)
            assert answer.status_code == 202, answer.text
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            busy = [r for r in (await client.get("/api/v1/jobs?limit=500", headers=headers)).json()
                    if r["status"] in ("queued", "running", "retrying")]
            if not busy:
                return
            await asyncio.sleep(0.5)
    raise AssertionError("jobs did not settle")


@pytest.fixture(scope="module")
def charlie_token(live_app: LiveApp) -> str:
    token = sg(live_app.env, "token", "create", "--tenant", "charlie", "--role", "analyst")
    asyncio.run(_push_and_wait(live_app, token, HOURS[:4]))
    return token


async def test_overview_shows_kpis_timeline_and_top_risks_that_open(browser: Browser, live_app: LiveApp,
                                                                    charlie_token: str) -> None:
    page = await login(browser, live_app, "admin@charlie.test", path="/overview")
    await expect(page.locator("#kpi-open")).not_to_have_text("0", timeout=20_000)
    await page.wait_for_selector("#timeline .main-svg", timeout=20_000)
    first = page.locator("#top-incidents a").first
    await expect(first).to_be_visible()
    await first.click()
    await page.wait_for_url(re.compile(r"/drift\?incident=\d+"), timeout=20_000)
    await expect(page.locator("#incident-summary")).not_to_be_empty(timeout=20_000)
    await page.locator("#incident-events tbody tr").first.get_by_role("button", name="Open").click()
    await expect(page.locator("#event-explanation")).not_to_be_empty(timeout=20_000)
    await expect(page.locator("#event-reasons tbody tr")).not_to_have_count(0)


async def test_filters_bulk_change_and_feedback(browser: Browser, live_app: LiveApp, charlie_token: str) -> None:
    page = await login(browser, live_app, "admin@charlie.test", path="/drift?tab=events")
    await page.wait_for_selector("#drift-table tbody tr", timeout=45_000)
    await page.fill("#drift-search", "64.225.56.201")
    await page.click("#drift-filter")
    await expect(page.locator("#drift-page")).to_contain_text(" of ", timeout=10_000)
    rows = page.locator("#drift-table tbody tr")
    for text in await rows.all_inner_texts():
        assert "64.225.56.201" in text
    await rows.nth(0).locator("button[role=checkbox]").click()
    await rows.nth(1).locator("button[role=checkbox]").click()
    await page.click("#bulk-acknowledged")
    await expect(page.locator("[role=alertdialog]")).to_contain_text("Change 2 events?")
    await page.click("#bulk-confirm")
    await expect(page.locator("#drift-message")).to_have_text("2 events marked acknowledged.", timeout=10_000)

    await rows.nth(0).get_by_role("button", name="Open").click()
    await page.click("#feedback-fp")
    await expect(page.locator("#event-notice")).to_contain_text("false positive", timeout=10_000)
    await expect(page.get_by_role("dialog")).to_contain_text("false_positive")


async def test_new_events_arrive_live(browser: Browser, live_app: LiveApp, charlie_token: str) -> None:
    page = await login(browser, live_app, "admin@charlie.test", path="/drift?tab=events")
    await page.wait_for_selector("#drift-table tbody tr", timeout=45_000)
    before = await page.locator("#kpi-open").count()
    assert before == 0  # not on the overview: the drift page announces instead
    await _push_and_wait(live_app, charlie_token, HOURS[4:5])
    await expect(page.locator("#drift-fresh")).to_contain_text("new events", timeout=20_000)


async def test_overview_timeline_updates_live(browser: Browser, live_app: LiveApp, charlie_token: str) -> None:
    page = await login(browser, live_app, "admin@charlie.test", path="/overview")
    await page.wait_for_selector("#timeline .main-svg", timeout=20_000)
    await page.evaluate("window.__noReload = true")
    before = await page.locator("#kpi-open").inner_text()
    await _push_and_wait(live_app, charlie_token, HOURS[5:6])
    await expect(page.locator("#kpi-open")).not_to_have_text(before, timeout=20_000)
    # the bars still count every open incident the KPI counts (the week ends at the newest data)
    total = (await page.locator("#kpi-open").inner_text()).replace(",", "")
    await expect(page.locator("#timeline-count")).to_contain_text(f" of the {total} open incidents")
    assert await page.evaluate("window.__noReload === true")


async def test_status_and_feedback_persist_across_reload(browser: Browser, live_app: LiveApp,
                                                         charlie_token: str) -> None:
    page = await login(browser, live_app, "admin@charlie.test", path="/drift?tab=events")
    await page.wait_for_selector("#drift-table tbody tr", timeout=45_000)
    first = page.locator("#drift-table tbody tr").first
    event_id = (await first.get_attribute("id") or "").removeprefix("event-")
    await first.get_by_role("button", name="Open").click()
    await page.click("#status-resolved")
    await expect(page.locator("#event-notice")).to_have_text("Marked resolved.", timeout=10_000)
    await page.goto(f"{live_app.base_url}/drift?event={event_id}")
    await expect(page.get_by_role("dialog")).to_contain_text("resolved", timeout=20_000)
    await expect(page.get_by_role("dialog")).to_contain_text("status")


async def _open_events(browser: Browser, live_app: LiveApp, path: str = "/drift?tab=events") -> Page:
    page = await login(browser, live_app, "admin@charlie.test", path=path)
    await page.wait_for_selector("#drift-table tbody tr", timeout=45_000)
    return page


async def test_an_event_has_its_own_url_and_a_bad_one_says_not_found(browser: Browser, live_app: LiveApp,
                                                                     charlie_token: str) -> None:
    page = await _open_events(browser, live_app)
    first = page.locator("#drift-table tbody tr").first
    event_id = (await first.get_attribute("id") or "").removeprefix("event-")
    await first.get_by_role("button", name="Open").click()
    await page.wait_for_function(f"location.search.includes('event={event_id}')", timeout=10_000)
    shared = page.url
    # the reasons show how they make the risk, and the evidence reads in words, not keys
    await expect(page.locator("#event-score-formation")).to_contain_text(re.compile(r"raw points|set directly"))
    evidence = await page.locator("#event-evidence").inner_text()
    assert "_" not in evidence and "['" not in evidence, evidence
    await page.get_by_role("button", name="Close").click()
    await page.wait_for_function("!location.search.includes('event=')", timeout=10_000)

    other = await login(browser, live_app, "admin@charlie.test", path="/overview")
    await other.goto(shared)
    await expect(other.get_by_role("dialog")).to_contain_text(await page.locator(f"#event-{event_id}").locator(
        "td").nth(4).inner_text(), timeout=20_000)
    for bad in ("999999999", "abc"):
        await other.goto(f"{live_app.base_url}/drift?event={bad}")
        await expect(other.locator("#event-missing")).to_contain_text("not found", timeout=20_000)
        await expect(other.get_by_role("dialog")).to_have_count(0)
    await other.goto(f"{live_app.base_url}/drift?incident=xyz")
    await expect(other.locator("#incident-message")).to_contain_text("incident 'xyz' not found", timeout=20_000)


async def test_labelled_filters_take_one_whole_day(browser: Browser, live_app: LiveApp, charlie_token: str) -> None:
    page = await _open_events(browser, live_app)
    for label in ("Kind", "Severity", "Status", "Min risk", "Search", "From day", "To day (inclusive, UTC)"):
        await expect(page.get_by_label(label, exact=True)).to_have_count(1)
    await page.get_by_label("From day").fill("2024-04-19")
    await page.get_by_label("To day (inclusive, UTC)").fill("2024-04-19")
    await page.click("#drift-filter")
    await expect(page.locator("#drift-page")).to_contain_text(" of ", timeout=10_000)
    assert await page.locator("#drift-message").count() == 0
    for window in await page.locator("#drift-table tbody tr td:nth-child(8)").all_inner_texts():
        assert window.startswith("2024-04-19"), window
    # backwards: refused with a reason, and no stale rows that would read as the answer
    await page.get_by_label("To day (inclusive, UTC)").fill("2024-04-18")
    await page.click("#drift-filter")
    await expect(page.locator("#drift-message")).to_contain_text("is before the from day", timeout=10_000)
    await expect(page.locator("#drift-table tbody tr")).to_have_count(0)


@pytest.mark.parametrize("size", [(1440, 900), (1024, 768)])
async def test_screenshots_overview_and_drift(browser: Browser, live_app: LiveApp, charlie_token: str,
                                              size: tuple[int, int]) -> None:
    """The pages at two sizes, for a person to look at (SG_E2E_SHOTS); the counts on them add up."""
    folder = Path(os.environ.get("SG_E2E_SHOTS") or live_app.log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    page = await login(browser, live_app, "admin@charlie.test", path="/overview")
    await page.set_viewport_size({"width": width, "height": height})
    await page.wait_for_selector("#timeline .main-svg", timeout=20_000)
    total = (await page.locator("#kpi-open").inner_text()).replace(",", "")
    parts = [int((await page.locator(f"#kpi-open_{s}").inner_text()).replace(",", ""))
             for s in ("critical", "high", "medium", "low", "info")]
    assert sum(parts) == int(total), parts
    await page.screenshot(path=str(folder / f"overview-{width}.png"), full_page=True)
    await page.goto(f"{live_app.base_url}/drift")
    await page.wait_for_selector("#incident-table tbody tr", timeout=20_000)
    await page.screenshot(path=str(folder / f"drift-incidents-{width}.png"), full_page=True)
    await page.goto(f"{live_app.base_url}/drift?tab=events")
    await page.wait_for_selector("#drift-table tbody tr", timeout=20_000)
    await page.screenshot(path=str(folder / f"drift-events-{width}.png"), full_page=True)
    await page.locator("#drift-table tbody tr").first.get_by_role("button", name="Open").click()
    await expect(page.locator("#event-score-formation")).not_to_be_empty(timeout=10_000)
    await page.wait_for_timeout(500)  # the dialog's fade-in
    await page.screenshot(path=str(folder / f"drift-event-{width}.png"), full_page=False)


async def test_window_sorts_by_window_and_bulk_takes_every_match(browser: Browser, live_app: LiveApp,
                                                                 charlie_token: str) -> None:
    page = await _open_events(browser, live_app)
    await page.get_by_role("link", name=re.compile("^Window")).click()
    await expect(page.get_by_role("link", name=re.compile("^Window"))).to_contain_text("↓", timeout=10_000)
    windows = await page.locator("#drift-table tbody tr td:nth-child(8)").all_inner_texts()
    assert windows == sorted(windows, reverse=True), windows
    page_label = await page.locator("#drift-page").inner_text()
    total = int(page_label.split(" of ")[1].replace(",", ""))
    assert total > 50, page_label  # more than a page: the case the issue is about
    await page.click("#bulk-select-page")
    await expect(page.locator("#bulk-scope")).to_contain_text("50 selected")
    await page.click("#bulk-select-matching")
    await expect(page.locator("#bulk-scope")).to_contain_text(f"All {total} events matching these filters")
    await page.click("#bulk-resolved")
    await expect(page.get_by_role("alertdialog")).to_contain_text(f"Change {total} events?")
    await page.screenshot(path=str(live_app.log_dir / "drift-bulk-confirm.png"))
    await page.click("#bulk-confirm")
    await expect(page.locator("#drift-message")).to_contain_text(f"{total:,} events marked resolved.", timeout=30_000)
    # the filter was "open": none is left
    await expect(page.locator("#drift-page")).to_have_text("no events", timeout=10_000)
