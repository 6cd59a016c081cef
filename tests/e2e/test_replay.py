"""Replay in Chromium on stored history: frame 1, a step, the keys, play, the shared URL, and the tenant wall."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from models.db import get_engine, session_scope
from models.queries import tenancy
from tests.apprunner import PASSWORD, LiveApp, sg
from tests.bench.bench_replay import frame_drawn, seed_history
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
START = datetime(2026, 11, 20, tzinfo=UTC)
HOURS = 8


async def _seed(app: LiveApp) -> dict[str, Any]:
    try:
        async with session_scope(app.database_url) as session:
            tenant = await tenancy.get_tenant_by_name(session, name="replay")
        return await seed_history(tenant.id or 0, start=START, hours=HOURS, approve_after=2, url=app.database_url)
    finally:
        await get_engine(app.database_url).dispose()


@pytest.fixture(scope="module")
def replay_tenants(live_app: LiveApp) -> dict[str, Any]:
    """Tenant `replay` with 8 stored hourly windows from 2026-11-20 00:00 UTC (the shop's database policy approved
    at 02:30; web → db at 03:00), and tenant `replayb` with nothing."""
    for name in ("replay", "replayb"):
        sg(live_app.env, "tenant", "create", name)
        sg(
            live_app.env,
            "user",
            "create",
            "--tenant",
            name,
            "--email",
            f"admin@{name}.test",
            "--role",
            "admin",
            stdin=PASSWORD + "\n",
        )
    return asyncio.run(_seed(live_app))


def _shot(app: LiveApp, name: str) -> Path:
    return app.log_dir / f"replay-{name}.png"


async def _open(browser: Browser, app: LiveApp, email: str, query: str = "") -> Page:
    """Signed in as `email`, then on /replay`query` as a shared link opens it."""
    page = await login(browser, app, email, path="/replay")
    await page.set_viewport_size({"width": 1500, "height": 1100})
    if query:
        await page.goto(f"{app.base_url}/replay{query}")
    return page


async def test_replay_opens_on_frame_1_steps_plays_and_shares_the_frame(
    browser: Browser, live_app: LiveApp, replay_tenants: dict[str, Any]
) -> None:
    page = await _open(browser, live_app, "admin@replay.test")
    await frame_drawn(page, f"Frame 1 of {HOURS}")
    await expect(page.locator("#replay-frame")).to_contain_text("2026-11-20 00:00 – 01:00 UTC")
    await expect(page).to_have_url(re.compile(r"/replay\?from=2026-11-20T00%3A00&to=2026-11-20T08%3A00&frame=1$"))
    await expect(page.locator("#replay-policies")).to_contain_text("No policy was approved by 2026-11-20 01:00 UTC")
    await expect(page.locator("#replay-counts")).to_contain_text("drift events")
    await expect(page.locator("#replay-from")).to_have_value("2026-11-20 00:00")
    await page.screenshot(path=str(_shot(live_app, "frame1")), full_page=True)

    await page.click("#replay-next")
    await frame_drawn(page, f"Frame 2 of {HOURS}")
    await expect(page).to_have_url(re.compile(r"frame=2$"))
    # the keys: → twice reaches hour 3, where web calls the database the policy approved at 02:30 guards
    await page.locator("body").press("ArrowRight")
    await frame_drawn(page, f"Frame 3 of {HOURS}")
    await page.locator("body").press("ArrowRight")
    await frame_drawn(page, f"Frame 4 of {HOURS}")
    await expect(page.locator("#replay-policies")).to_contain_text(
        "would be blocked by the 1 policy approved at 2026-11-20 04:00 UTC (shop/db v1)"
    )
    await expect(page.locator("#replay-blocked")).to_contain_text("shop/web → shop/db:5432/tcp")
    await expect(page.locator("#replay-counts")).to_contain_text("high: 1")
    await page.screenshot(path=str(_shot(live_app, "frame4")), full_page=True)
    await page.locator("body").press("ArrowLeft")
    await frame_drawn(page, f"Frame 3 of {HOURS}")
    # space plays and pauses (1× is one frame a second: the pause lands within a frame or two)
    await page.locator("body").press(" ")
    await expect(page.locator("#replay-play")).to_have_text("Pause")
    await page.locator("body").press(" ")
    await expect(page.locator("#replay-play")).to_have_text("Play")
    paused_at = int((await page.inner_text("#replay-frame")).split()[1])
    assert 3 <= paused_at <= 5
    await page.wait_for_timeout(1500)
    assert int((await page.inner_text("#replay-frame")).split()[1]) == paused_at

    await page.set_viewport_size({"width": 760, "height": 1000})
    await page.screenshot(path=str(_shot(live_app, "narrow")), full_page=True)
    await page.set_viewport_size({"width": 1500, "height": 1100})
    await page.select_option("#replay-speed", "4")
    await page.click("#replay-play")
    await expect(page.locator("#replay-play")).to_have_text("Pause")
    await frame_drawn(page, f"Frame {HOURS} of {HOURS}")  # plays to the end and stops there
    await expect(page.locator("#replay-play")).to_have_text("Play", timeout=10_000)
    await expect(page).to_have_url(re.compile(rf"frame={HOURS}$"))

    shared = await _open(browser, live_app, "admin@replay.test", "?from=2026-11-20T00:00&to=2026-11-21T00:00&frame=5")
    await frame_drawn(shared, f"Frame 5 of {HOURS}")
    await expect(shared.locator("#replay-frame")).to_contain_text("2026-11-20 04:00 – 05:00 UTC")


async def test_a_bad_period_says_why(browser: Browser, live_app: LiveApp, replay_tenants: dict[str, Any]) -> None:
    page = await _open(browser, live_app, "admin@replay.test")
    await frame_drawn(page, f"Frame 1 of {HOURS}")
    await page.fill("#replay-from", "2026-11-21 00:00")
    await page.fill("#replay-to", "2026-11-20 00:00")
    await page.click("#replay-apply")
    await expect(page.locator("#replay-message")).to_have_text("From must lie before To")
    await page.fill("#replay-from", "2026-11-20 05:00")
    await page.fill("#replay-to", "2026-11-20 08:00")
    await page.click("#replay-apply")
    await frame_drawn(page, "Frame 1 of 3")
    await expect(page).to_have_url(re.compile(r"from=2026-11-20T05%3A00&to=2026-11-20T08%3A00&frame=1$"))


async def test_another_tenant_cannot_replay_these_windows(
    browser: Browser, live_app: LiveApp, replay_tenants: dict[str, Any]
) -> None:
    page = await _open(browser, live_app, "admin@replayb.test", "?from=2026-11-20T00:00&to=2026-11-21T00:00&frame=4")
    await expect(page.locator("#replay-message")).to_contain_text("No snapshots yet", timeout=20_000)
    assert await page.locator("#replay-frame").count() == 0
    assert "shop/db" not in await page.content()
