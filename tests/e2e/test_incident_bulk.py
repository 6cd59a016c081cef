"""Issue 21 on the Drift page: the incident list's bulk change (select all N matching the filter, the count in the
confirmation, audited, only for roles that may change) and the events tab's filters in a shareable URL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, expect
from sqlmodel import col, select

from models.ops import AuditLog
from models.queries import tenancy
from tests.apprunner import LiveApp, seed_tenants
from tests.e2e.conftest import login
from tests.e2e.test_incidents import _brute, _fold, _session

pytestmark = pytest.mark.e2e
TENANT = "hotelbulk"
INCIDENTS = 30  # more than a page of 25


@pytest.fixture(scope="module")
def hotelbulk(live_app: LiveApp) -> Iterator[int]:
    """Tenant hotelbulk with 30 open brute-force incidents, one per home /24, found in one hour."""
    seed_tenants(live_app.env, [TENANT])
    yield asyncio.run(_seed(live_app))


async def _seed(live_app: LiveApp) -> int:
    async with _session(live_app) as session:
        tenant_id = (await tenancy.get_tenant_by_name(session, name=TENANT)).id or 0
    window = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    findings = [replace(_brute(window.timestamp(), 48.0), target=f"10.30.{i}.0/24") for i in range(INCIDENTS)]
    await _fold(live_app, tenant_id, window, findings)
    return tenant_id


async def test_bulk_resolves_all_incidents_matching_the_filter_with_the_count_confirmed(
        browser: Browser, live_app: LiveApp, hotelbulk: int) -> None:
    viewer = await login(browser, live_app, f"viewer@{TENANT}.test", path="/drift")
    await expect(viewer.locator("#incident-table tbody tr")).to_have_count(25, timeout=20_000)
    assert await viewer.locator("#incident-bulk-select-page, #incident-bulk-resolved").count() == 0
    page = await login(browser, live_app, f"analyst@{TENANT}.test", path="/drift")
    await expect(page.locator("#incident-table tbody tr")).to_have_count(25, timeout=20_000)
    await page.click("#incident-bulk-select-page")
    await expect(page.locator("#incident-bulk-scope")).to_contain_text("25 selected")
    await page.click("#incident-bulk-select-matching")
    await expect(page.locator("#incident-bulk-scope")).to_contain_text(
        f"All {INCIDENTS} incidents matching these filters")
    await page.click("#incident-bulk-resolved")
    await expect(page.get_by_role("alertdialog")).to_contain_text(f"Change {INCIDENTS} incidents?")
    await page.click("#incident-bulk-confirm")
    await expect(page.locator("#incident-message")).to_have_text(f"{INCIDENTS} incidents marked resolved.",
                                                                 timeout=30_000)
    # the filter is "open": none is left, and each change is in the audit log under the analyst's name
    await expect(page.locator("#incident-table-empty")).to_be_visible(timeout=10_000)
    async with _session(live_app) as session:
        audits = list(await session.exec(select(AuditLog).where(
            col(AuditLog.tenant_id) == hotelbulk, col(AuditLog.action) == "incident.status",
            col(AuditLog.actor) == f"analyst@{TENANT}.test")))
    assert len(audits) == INCIDENTS


async def test_the_events_tab_filters_are_in_the_url_and_a_link_restores_them(
        browser: Browser, live_app: LiveApp, hotelbulk: int) -> None:
    page = await login(browser, live_app, f"analyst@{TENANT}.test", path="/overview")
    await page.goto(f"{live_app.base_url}/drift?tab=events&ev_kind=brute_force&ev_status=any&ev_q=10.30.7.0")
    await expect(page.locator("#drift-page")).to_have_text("1–1 of 1", timeout=30_000)
    await expect(page.locator("#drift-table tbody tr")).to_have_count(1)
    await expect(page.locator("#drift-search")).to_have_value("10.30.7.0")
    await expect(page.locator("#drift-filter-kind")).to_contain_text("brute_force")
    # a change on the form goes into the address bar, beside what was there
    await page.fill("#drift-search", "10.30.1")
    await page.press("#drift-search", "Enter")
    await page.wait_for_function("new URLSearchParams(location.search).get('ev_q') === '10.30.1'", timeout=10_000)
    query = await page.evaluate("location.search")
    assert "ev_kind=brute_force" in query and "ev_status=any" in query and "tab=events" in query, query
    rows = await page.locator("#drift-table tbody tr").count()
    assert rows == 11, rows  # 10.30.1.0/24 and 10.30.10–19.0/24
    # a bad value in a link is named, and the rest still applies
    await page.goto(f"{live_app.base_url}/drift?tab=events&ev_kind=phishing&ev_status=any&ev_q=10.30.7.0")
    await expect(page.locator("#drift-message")).to_contain_text("kind 'phishing' is not one of", timeout=20_000)
    await expect(page.locator("#drift-table tbody tr")).to_have_count(1)
    assert re.search(r"tab=events", page.url)
