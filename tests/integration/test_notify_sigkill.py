"""A worker SIGKILLed in the middle of a drain: after the lease, the next drain delivers the rest; nothing is lost,
and a receiver that honours `Idempotency-Key` (as our webhook documents) sees each delivery once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import sqlalchemy as sa

from jobs.tasks import notify
from models.db import session_scope
from models.notifications import NotificationDelivery
from models.queries import notifications as q
from models.settings import get_settings
from tests.builders import make_tenant
from tests.integration.test_notify_drain import _all, _incidents

pytestmark = pytest.mark.integration


class _Hook(BaseHTTPRequestHandler):
    keys: list[str] = []
    third = threading.Event()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.4)  # a slow receiver, so the kill lands mid-drain
        type(self).keys.append(self.headers["Idempotency-Key"])
        if len(type(self).keys) >= 3:
            type(self).third.set()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def receiver(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.keys, _Hook.third = [], threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SG_NOTIFY_ALLOWED_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    yield server
    server.shutdown()
    server.server_close()
    get_settings.cache_clear()


DRAIN = """
import asyncio, httpx
from jobs.tasks import notify
async def main():
    async with httpx.AsyncClient() as client:
        await notify.drain_integration(client, tenant_id={tenant}, integration_id={integration})
asyncio.run(main())
"""


# One backend is enough for a process kill: PostgreSQL, where leases use SKIP LOCKED.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_sigkill_mid_drain_loses_nothing_and_duplicates_nothing(
    receiver: ThreadingHTTPServer, backend: str
) -> None:
    a = (await make_tenant("alpha")).tenant_id
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    async with session_scope() as session:
        hook, _ = await q.create_integration(
            session, tenant_id=a, actor="x", kind="webhook", name="hook", min_severity="info", config={"url": url}
        )
    await _incidents(a, 8)
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DRAIN.format(tenant=a, integration=hook.id), env=os.environ.copy(), cwd=os.getcwd()
    )
    assert await asyncio.to_thread(_Hook.third.wait, 60)
    worker.send_signal(signal.SIGKILL)
    assert await worker.wait() == -signal.SIGKILL
    delivered_before = len(_Hook.keys)
    assert 3 <= delivered_before < 8
    async with session_scope() as session:  # the lease ends (simulated clock)
        await session.exec(
            sa.update(NotificationDelivery)
            .where(  # type: ignore[call-overload]
                NotificationDelivery.tenant_id == a, NotificationDelivery.status == "pending"
            )
            .values(next_attempt_at=sa.func.current_timestamp())
        )
    async with httpx.AsyncClient() as client:
        await notify.drain_integration(client, tenant_id=a, integration_id=int(hook.id or 0))
    rows = await _all(a)
    assert len(rows) == 8 and {r.status for r in rows} == {"sent"}
    assert set(_Hook.keys) == {r.idempotency_key for r in rows}  # nothing lost
    repeated = len(_Hook.keys) - len(set(_Hook.keys))
    assert repeated <= 1  # at most the one in flight at the kill, and it carries the same key
