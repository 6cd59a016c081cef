"""Security headers on pages, static assets, the backend and /api/v1 of the one prod port, and a CSP the
app really works under in Chromium: pages render, the websocket connects, no violation is reported."""

from __future__ import annotations

import asyncio
import base64
import os
import re

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, expect

from dashboard.api.headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS, origin_of, with_form_targets
from tests.apprunner import LiveApp
from tests.e2e.conftest import login
from tests.oidc.launcher import OidcProvider

pytestmark = pytest.mark.e2e


def _assert_headers(response: httpx.Response, expected: dict[str, str]) -> None:
    for name, value in expected.items():
        assert response.headers.get(name) == value, f"{response.url}: {name} is {response.headers.get(name)!r}"


async def test_headers_on_pages_static_assets_backend_and_api(live_app: LiveApp, oidc_provider: OidcProvider) -> None:
    # This app signs in with SSO, so forms may also end at the provider (sign-out), and nowhere else.
    provider = origin_of(oidc_provider.issuer)
    assert provider is not None
    expected = {**SECURITY_HEADERS,
                "content-security-policy": with_form_targets(CONTENT_SECURITY_POLICY, [provider])}
    async with httpx.AsyncClient(base_url=live_app.base_url, timeout=20, follow_redirects=True) as client:
        root, page = await client.get("/"), await client.get("/login")
        assert root.status_code == 200 and page.status_code == 200
        assets = re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css))"', page.text)
        assert assets, "the login page references no static script or stylesheet"
        asset = await client.get(assets[0])
        assert asset.status_code == 200
        deep = await client.get("/overview")  # a protected page route (the browser is sent on to /login)
        ping = await client.get("/ping")  # the Reflex backend's own route
        api = await client.get("/api/v1/health")
        missing = await client.get("/api/v1/no-such-route")
        for response in (root, page, asset, deep, ping, api, missing):
            _assert_headers(response, expected)
        assert missing.status_code == 404 and "Traceback" not in missing.text


async def test_the_app_works_under_its_csp(browser: Browser, live_app: LiveApp) -> None:
    violations: list[str] = []
    page = await login(browser, live_app, "admin@charlie.test", path="/overview")
    page.on("console", lambda m: _collect(m, violations))
    page.on("pageerror", lambda e: violations.append(f"pageerror: {e}"))
    frames: list[str] = []
    page.on("websocket", lambda ws: frames.append(ws.url))
    for path, ready in (("/overview", "#user-role"), ("/graph", "#user-role"), ("/drift", "#incident-table"),
                        ("/sources", "#snapshots-table, #snapshots-empty"), ("/jobs", "#jobs-table, #jobs-empty"),
                        ("/users", "#users-table"), ("/audit", "#audit-table, #audit-empty")):
        await page.goto(f"{live_app.base_url}{path}")
        await page.wait_for_selector(ready, timeout=20_000)
    # The event websocket works: the audit page got its rows (the admin's own login) over it.
    await expect(page.locator("#audit-table")).to_contain_text("login", timeout=10_000)
    assert any(url.startswith("ws://") for url in frames), frames
    assert not [v for v in violations if "Content Security Policy" in v or "pageerror" in v], violations


def _collect(message: ConsoleMessage, into: list[str]) -> None:
    if message.type in ("error", "warning"):
        into.append(message.text)


async def _websocket_status(base_url: str, origin: str) -> int:
    """The status a Socket.IO websocket handshake from `origin` gets (101 = connected)."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write((f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
                      "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                      f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nOrigin: {origin}\r\n\r\n"
                      ).encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        return int(status_line.split()[1])
    finally:
        writer.close()


async def test_only_our_own_origin_may_open_the_websocket_or_read_the_api(live_app: LiveApp) -> None:
    assert await _websocket_status(live_app.base_url, live_app.base_url) == 101
    assert await _websocket_status(live_app.base_url, "https://evil.example") in (400, 403)
    async with httpx.AsyncClient(base_url=live_app.base_url, timeout=20) as client:
        evil = await client.get("/api/v1/health", headers={"Origin": "https://evil.example", "Cookie": "sg_session=x"})
        ours = await client.get("/api/v1/health", headers={"Origin": live_app.base_url})
    assert evil.headers.get("access-control-allow-origin") is None
    assert ours.headers.get("access-control-allow-origin") == live_app.base_url
