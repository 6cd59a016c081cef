"""Hostile text in Chromium: node names, labels, notes, reasons and file names holding script payloads render as
text on the graph, drift, sources and audit pages, and no dialog ever fires; SQL-looking strings are stored and
shown literally. And the login form refuses the N+1st failed attempt with the wait."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from jobs.engines.graph.labels import MAX_LABEL_CHARS
from tests.apprunner import LiveApp, seed_tenants, sg
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
TENANT = "xsslab"
XSS_NAME = "<img src=x onerror=alert('name')>"
XSS_LABEL = "<script>alert('label')</script>"
XSS_NOTE = "<svg onload=alert('note')>"
XSS_FILE = "<img src=y onerror=alert('file')>.jsonl"
SQL_TEXT = "x'); DROP TABLE node;--"


def _flow(hour: int, minute: int, src: str, dst: str, port: int, src_ip: str, dst_ip: str) -> dict[str, Any]:
    return {"ts_start": f"2026-01-05T{hour:02d}:{minute:02d}:00Z", "ts_end": f"2026-01-05T{hour:02d}:{minute:02d}:05Z",
            "src_ip": src_ip, "src_port": 40000 + minute, "dst_ip": dst_ip, "dst_port": port, "protocol": "tcp",
            "bytes": 1200, "packets": 4, "action": "ACCEPT", "src_name": src, "dst_name": dst,
            "src_namespace": "lab", "dst_namespace": "lab",
            "src_labels": json.dumps({"app": src[:40], "note": XSS_LABEL}), "dst_labels": json.dumps({"app": "db"})}


def _flows() -> bytes:
    rows = [_flow(10, m, "web", "db", 5432, "10.0.0.1", "10.0.0.2") for m in (1, 20, 40)]
    rows += [_flow(11, m, "web", "db", 5432, "10.0.0.1", "10.0.0.2") for m in (1, 20)]
    rows += [_flow(11, 30, XSS_NAME, "db", 6379, "10.0.0.3", "10.0.0.2"),
             _flow(11, 31, SQL_TEXT, "db", 6379, "10.0.0.4", "10.0.0.2")]
    return "\n".join(json.dumps(r) for r in rows).encode() + b"\n"


async def _settle(client: httpx.AsyncClient, headers: dict[str, str], within: float = 180) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        jobs = (await client.get("/api/v1/jobs?limit=500", headers=headers)).json()
        if jobs and not [r for r in jobs if r["status"] in ("queued", "running", "retrying")]:
            return
        await asyncio.sleep(0.5)
    raise AssertionError("jobs did not settle")


async def _seed(app: LiveApp) -> dict[str, Any]:
    seed_tenants(app.env, [TENANT])
    token = sg(app.env, "token", "create", "--tenant", TENANT, "--role", "analyst")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=app.base_url, timeout=30) as client:
        pushed = await client.post("/api/v1/flows", params={"format": "jsonl", "filename": XSS_FILE},
                                   content=_flows(), headers=headers)
        assert pushed.status_code == 202, pushed.text
        await _settle(client, headers)
        upload = (await client.get(f"/api/v1/uploads/{pushed.json()['upload_id']}", headers=headers)).json()
        assert upload["rows_accepted"] == 7, upload
        events = (await client.get("/api/v1/drift-events", headers=headers)).json()
        hostile = [e for e in events if XSS_NAME in e["src"]]
        assert hostile, [e["src"] for e in events]
        feedback = await client.post(f"/api/v1/drift-events/{hostile[0]['id']}/feedback", headers=headers,
                                     json={"verdict": "true_positive", "note": f"{XSS_NOTE} {SQL_TEXT}"})
        assert feedback.status_code == 200, feedback.text
        entry = await client.post("/api/v1/whitelist", headers=headers,
                                  json={"src_pattern": "lab/web", "dst_pattern": "*", "reason": f"{SQL_TEXT} {XSS_NOTE}"})
        assert entry.status_code == 201, entry.text
        # Stored literally: what went in comes back byte for byte.
        listed = (await client.get("/api/v1/whitelist", headers=headers)).json()
        assert f"{SQL_TEXT} {XSS_NOTE}" in [e["reason"] for e in listed]
        return {"event": hostile[0]["id"], "sql_events": [e for e in events if SQL_TEXT in e["src"]]}


@pytest.fixture(scope="module")
def hostile(live_app: LiveApp) -> dict[str, Any]:
    return asyncio.run(_seed(live_app))


def _watch(page: Page) -> list[str]:
    fired: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        fired.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    return fired


async def _no_injected_markup(page: Page) -> None:
    assert await page.locator("img[src='x'], img[src='y']").count() == 0
    assert await page.evaluate("Array.from(document.scripts).filter(s => s.text.includes(\"alert('\")).length") == 0


async def test_hostile_names_notes_and_files_render_as_text(browser: Browser, live_app: LiveApp,
                                                            hostile: dict[str, Any]) -> None:
    page = await login(browser, live_app, f"admin@{TENANT}.test", path="/drift")
    fired = _watch(page)
    await expect(page.locator("#incident-table")).to_contain_text(XSS_NAME, timeout=20_000)  # incidents first
    await _no_injected_markup(page)
    await page.goto(f"{live_app.base_url}/drift?tab=events")
    table = page.locator("#drift-table")
    await expect(table).to_contain_text(XSS_NAME, timeout=20_000)
    await expect(table).to_contain_text(SQL_TEXT)
    await page.goto(f"{live_app.base_url}/drift?event={hostile['event']}")
    await expect(page.locator("body")).to_contain_text(XSS_NOTE, timeout=20_000)
    await _no_injected_markup(page)

    await page.goto(f"{live_app.base_url}/graph")
    await page.wait_for_selector("#graph-plot .js-plotly-plot .main-svg", timeout=30_000)
    # The graph cuts labels at 30 characters (the full name is on hover): the cut name still reads as text.
    shown = XSS_NAME[: MAX_LABEL_CHARS - 1] + "…"
    await expect(page.locator("#graph-plot")).to_contain_text(shown, timeout=20_000)
    await page.mouse.move(300, 300)  # hover text, where plotly renders labels
    await _no_injected_markup(page)

    await page.goto(f"{live_app.base_url}/sources")
    await expect(page.locator("body")).to_contain_text(XSS_FILE, timeout=20_000)
    await _no_injected_markup(page)

    await page.goto(f"{live_app.base_url}/audit")
    audit = page.locator("#audit-table")
    await expect(audit).to_contain_text(XSS_NOTE, timeout=20_000)
    await expect(audit).to_contain_text(SQL_TEXT)
    await page.fill("#audit-text", SQL_TEXT)  # searched literally, quote and all
    await page.click("#audit-filter")
    await expect(page.locator("#audit-page")).to_have_text("1–2 of 2", timeout=10_000)
    await _no_injected_markup(page)
    await asyncio.sleep(0.5)
    assert fired == [], f"a payload ran: {fired}"


async def test_login_refuses_the_attempt_after_the_limit_with_the_wait(browser: Browser, live_app: LiveApp) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{live_app.base_url}/login")
    limit = 5  # settings.login_max_failures (default)
    message = page.locator("#login-message")
    for attempt in range(limit):
        await page.fill("#email", "guesser@xsslab.test")
        await page.fill("#password", f"wrong-{attempt}")
        await page.click("#sign-in")
        await expect(message).to_have_text("Wrong email or password.", timeout=10_000)
        # The text repeats: give each refusal (0.4 s slow-down included) time to land before the next try.
        await page.wait_for_timeout(1200)
    await page.fill("#password", "another-guess")
    await page.click("#sign-in")
    await expect(message).to_contain_text("Too many failed sign-in attempts. Try again in", timeout=10_000)
    await context.close()
