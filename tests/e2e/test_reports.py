"""The Reports page in Chromium: a viewer picks a day, previews the Markdown (top incidents with explanations) and
downloads the PDF, which pypdf reads back; the page is in the header's navigation."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import pypdf
import pytest
from playwright.async_api import Browser, expect

from models.db import get_engine, session_scope
from models.queries import tenancy
from tests.apprunner import LiveApp, seed_tenants
from tests.e2e.conftest import login
from tests.integration.report_support import seed_day

pytestmark = pytest.mark.e2e
TENANT = "reports"  # a tenant name of its own: test_readiness seeds "golf" in the same app


async def _seed(app: LiveApp) -> None:
    try:
        async with session_scope(app.database_url) as session:
            tenant_id = (await tenancy.get_tenant_by_name(session, name=TENANT)).id or 0
        await seed_day(tenant_id, url=app.database_url)
    finally:
        await get_engine(app.database_url).dispose()


async def test_a_viewer_previews_and_downloads_a_pdf_report(browser: Browser, live_app: LiveApp) -> None:
    seed_tenants(live_app.env, [TENANT], roles=("viewer",))
    await asyncio.to_thread(lambda: asyncio.run(_seed(live_app)))
    page = await login(browser, live_app, f"viewer@{TENANT}.test", path="/reports")
    await expect(page.locator("#nav-links a[href='/reports']")).to_have_count(1, timeout=20_000)
    await expect(page.locator("#report-download")).to_be_visible(timeout=20_000)
    await page.fill("#report-from", "2026-12-04")
    await page.fill("#report-to", "2026-12-04")
    await page.click("#report-preview")
    preview = page.locator("#report-markdown")
    await expect(preview).to_contain_text("### 1. [HIGH] scan — 10.0.0.0/24", timeout=20_000)
    await expect(preview).to_contain_text("198.51.100.7 probed 900 ports on 10.0.0.0/24")
    await expect(page.locator("#reports-message")).to_contain_text("2 incidents, 1 new external peers")
    async with page.expect_download(timeout=30_000) as waiting:
        await page.click("#report-download")
    download = await waiting.value
    assert download.suggested_filename == f"secureguard-{TENANT}-20261204-20261205.pdf"
    data = Path(await download.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "probed 900 ports" in text and "203.0.113.9" in text and "payments/allow-api" in text
    await page.fill("#report-to", "2026-11-01")
    await page.click("#report-preview")
    await expect(page.locator("#reports-message")).to_contain_text("from must be before to", timeout=10_000)
    folder = Path(os.environ.get("SG_E2E_SHOTS") or live_app.log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / "reports.png"), full_page=True)
