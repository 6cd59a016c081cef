"""The Integrations page in Chromium: an admin adds a Slack integration pointing at a local receiver (allowed by
SG_NOTIFY_ALLOWED_HOSTS), presses Test, and sees the delivery row turn sent; the receiver got a Block Kit message;
the webhook URL (the Slack secret) is never shown back. Edit opens the form filled, the secret left "unchanged":
saved without it, the integration keeps sending to the same URL."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.apprunner import LiveApp
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


class _Slack(BaseHTTPRequestHandler):
    bodies: list[dict] = []

    def do_POST(self) -> None:
        type(self).bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def slack() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slack)
    _Slack.bodies = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/E2ESECRETPART"
    server.shutdown()
    server.server_close()


async def test_admin_adds_slack_presses_test_and_sees_it_sent(browser: Browser, live_app: LiveApp, slack: str) -> None:
    page = await login(browser, live_app, "admin@delta.test", path="/integrations")
    await expect(page.locator("#integration-add")).to_be_visible(timeout=20_000)
    await page.fill("#integration-name", "secops e2e")
    await page.fill("#integration-url", "ftp://nowhere")
    await page.click("#integration-add")
    await expect(page.locator("#integrations-message")).to_contain_text(
        "config.url must be an https:// URL", timeout=10_000
    )
    await page.fill("#integration-name", "secops e2e")
    await page.fill("#integration-url", slack)
    await page.fill("#integration-template", "{{ severity|upper }} on {{ entity }}")
    await expect(page.locator("#integration-template-preview")).to_have_text("HIGH on 198.51.100.0/24", timeout=10_000)
    await page.click("#integration-add")
    await expect(page.locator("#integrations-message")).to_contain_text(
        "Integration 'secops e2e' added.", timeout=10_000
    )
    table = page.locator("#integrations-table")
    await expect(table).to_contain_text("webhook URL (secret)")
    assert "E2ESECRETPART" not in await page.content()
    await page.locator("[id^=integration-test-]").first.click()
    await expect(page.locator("#integrations-message")).to_contain_text(
        "Test message sent to 'secops e2e'", timeout=20_000
    )
    await expect(page.locator("#deliveries-table .delivery-status").first).to_have_text("sent")
    assert len(_Slack.bodies) == 1 and _Slack.bodies[0]["text"].startswith("[INFO] test")
    # the template wrote the message's text (for the test: the integration as entity)
    assert "INFO on integration secops e2e" in json.dumps(_Slack.bodies[0]["attachments"])
    # Edit: the form comes filled (the secret empty, "unchanged"), a rename and a namespace exclusion are saved
    await page.locator("[id^=integration-edit-]").first.click()
    await expect(page.locator("#edit-name")).to_have_value("secops e2e", timeout=10_000)
    await expect(page.locator("#edit-url")).to_have_value("")
    await expect(page.locator("#edit-url")).to_have_attribute("placeholder", "unchanged — type a new value to replace it")
    await expect(page.locator("#edit-template")).to_have_value("{{ severity|upper }} on {{ entity }}")
    await page.fill("#edit-name", "secops renamed")
    await page.fill("#edit-namespaces_exclude", "kube-system")
    await page.click("#integration-save-edit")
    await expect(page.locator("#integrations-message")).to_contain_text(
        "Integration 'secops renamed' saved.", timeout=10_000
    )
    await expect(table).to_contain_text("secops renamed")
    assert "E2ESECRETPART" not in await page.content()
    await page.locator("[id^=integration-test-]").first.click()
    await expect(page.locator("#integrations-message")).to_contain_text(
        "Test message sent to 'secops renamed'", timeout=20_000
    )
    assert len(_Slack.bodies) == 2  # the kept secret: the same webhook URL
    folder = Path(os.environ.get("SG_E2E_SHOTS") or live_app.log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / "integrations.png"), full_page=True)
