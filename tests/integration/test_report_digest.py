"""Scheduled report digests: a tenant set to daily gets, once the hour has come, one `report` delivery per
integration through the outbox, sent by the drain to a real local HTTP server (Slack Block Kit with the summary and
a link to the Reports page, the signed webhook's JSON, a Jira issue labelled with the period), and never twice:
later runs queue nothing for the same period. A tenant without the setting gets none."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlmodel import select

from jobs.engines.notify.messages import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_webhook
from jobs.tasks import notify
from jobs.tasks.report_digest import digest_tenant, send_report_digests
from models.db import session_scope
from models.notifications import NotificationDelivery
from models.ops import AuditLog
from models.queries import notifications as q
from models.queries import report_schedule
from models.settings import get_settings
from tests.builders import make_tenant
from tests.integration.report_support import DAY, seed_day

pytestmark = pytest.mark.integration


class _Receiver(BaseHTTPRequestHandler):
    seen: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.path, dict(self.headers.items()), body))
        if self.path == "/rest/api/3/issue":
            answer, status = json.dumps({"id": "1", "key": "SEC-1", "self": "x"}).encode(), 201
        else:
            answer, status = b"ok", 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


@pytest.fixture
def receiver(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, list[tuple[str, dict[str, str], bytes]]]]:
    """A local HTTP server on an ephemeral port, allowed as a receiver."""
    monkeypatch.setenv("SG_NOTIFY_ALLOWED_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    seen: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("Receiver", (_Receiver,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()
        get_settings.cache_clear()


async def _integration(tenant_id: int, kind: str, name: str, config: dict[str, Any]) -> str:
    """Creates it; returns the webhook's generated signing secret ('' for the others)."""
    async with session_scope() as session:
        _, secret = await q.create_integration(session, tenant_id=tenant_id, actor="admin@t", kind=kind, name=name,
                                                min_severity="critical", config=config)
    return secret or ""


async def test_daily_digest_is_sent_once_to_each_integration(receiver: tuple[int, list[Any]]) -> None:
    port, seen = receiver
    base = f"http://127.0.0.1:{port}"
    acme, quiet = (await make_tenant("acme")).tenant_id, (await make_tenant("quiet")).tenant_id
    await seed_day(acme)
    await _integration(acme, "slack", "slack", {"url": f"{base}/slack"})
    hook = await _integration(acme, "webhook", "hook", {"url": f"{base}/hook"})
    await _integration(acme, "jira", "jira", {"url": base, "email": "sg@acme", "api_token": "T0KEN",
                                              "project": "SEC", "issue_type": "Task"})
    await _integration(quiet, "slack", "slack", {"url": f"{base}/quiet"})
    async with session_scope() as session:
        await report_schedule.set_digest_setting(session, tenant_id=acme, actor="admin@acme",
                                                 value={"mode": "daily", "hour": 8,
                                                        "since": (DAY + timedelta(days=1, hours=7)).isoformat()})
    # set at 07:00 on Dec 5: before 08:00 the due period is Dec 3's, whose hour came before the setting
    assert await digest_tenant(acme, now=DAY + timedelta(days=1, hours=7, minutes=30)) == 0
    now = DAY + timedelta(days=1, hours=9)
    assert await digest_tenant(acme, now=now) == 3
    assert await digest_tenant(acme, now=now + timedelta(hours=5)) == 0  # same period: queued once
    assert await digest_tenant(quiet, now=now) == 0  # no setting: off
    async with httpx.AsyncClient() as client:
        first = await notify.drain_tenant(client, tenant_id=acme)
        assert await digest_tenant(acme, now=now + timedelta(hours=6)) == 0
        again = await notify.drain_tenant(client, tenant_id=acme)
    assert first == {"sent": 3, "retry": 0, "failed": 0, "skipped": 0, "digested": 0} and again == {}
    by_path = {path: (headers, body) for path, headers, body in seen}
    assert sorted(path for path, _, _ in seen) == ["/hook", "/rest/api/3/issue", "/slack"]  # once each
    slack = json.loads(by_path["/slack"][1])
    assert slack["text"] == "Daily SecureGuard report for acme: 2026-12-04 00:00 – 2026-12-05 00:00 UTC"
    blocks = slack["attachments"][0]["blocks"]
    assert "2 incidents (1 high, 1 medium)" in blocks[1]["text"]["text"]
    assert "probed 900 ports" in blocks[1]["text"]["text"]
    button = blocks[-1]["elements"][0]
    assert button["text"]["text"] == "Open report" and "/reports?from=2026-12-04T00" in button["url"]
    headers, body = by_path["/hook"]
    assert verify_webhook(body, secret=hook, timestamp=int(headers[TIMESTAMP_HEADER]),
                          signature=headers[SIGNATURE_HEADER], now=int(headers[TIMESTAMP_HEADER]))
    payload = json.loads(body)
    assert payload["notice"] == "report" and payload["severity"] == "high" and payload["events"] == 2
    issue = json.loads(by_path["/rest/api/3/issue"][1])["fields"]
    assert "secureguard-report-daily-2026-12-04" in issue["labels"] and issue["project"] == {"key": "SEC"}
    async with session_scope() as session:
        rows = list(await session.exec(select(NotificationDelivery).where(NotificationDelivery.tenant_id == acme)))
        audit = list(await session.exec(select(AuditLog).where(AuditLog.action == "settings.report_digest")))
    assert {(r.kind, r.status) for r in rows} == {("report", "sent")} and len(rows) == 3
    assert {r.idempotency_key.split(":")[2] for r in rows} == {"daily"}
    assert [a.tenant_id for a in audit] == [acme]


async def test_the_cron_entry_walks_every_tenant(receiver: tuple[int, list[Any]]) -> None:
    port, _ = receiver
    acme = (await make_tenant("acme")).tenant_id
    await _integration(acme, "slack", "slack", {"url": f"http://127.0.0.1:{port}/slack"})
    async with session_scope() as session:
        await report_schedule.set_digest_setting(session, tenant_id=acme, actor="admin@acme",
                                                 value={"mode": "weekly", "hour": 0, "since": None})
    assert await send_report_digests({}) == {"queued": 1}
    assert await send_report_digests({}) == {"queued": 0}

