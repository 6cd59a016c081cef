"""Two web backends behind HAProxy (deploy/haproxy.cfg), tab state in Redis: a signed-in tab whose backend is
killed with SIGKILL reconnects to the other with its token and state intact, and live events reach the tabs of
every backend.

One frontend build serves both backends (`reflex export --frontend-only`, then `python -m dashboard.serve` per
backend, as the Dockerfile does); the build points the tabs at the balancer's port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import pytest
import redis
from playwright.async_api import Browser, Page, expect

from jobs.runtime.constants import events_channel
from jobs.runtime.events import encode_event
from models import migrate
from tests.apprunner import CLUSTER_REDIS_URL, LiveApp, free_port, seed_tenants
from tests.conftest import ROOT, create_database, drop_database
from tests.e2e.conftest import login
from tests.e2e.replica_support import backend_of, stop, wait_answering

pytestmark = pytest.mark.e2e
TENANT_ID = 8808


@dataclass
class Replicas:
    app: LiveApp
    backends: dict[str, subprocess.Popen[bytes]]  # name -> process (its own process group)
    tenant_id: int


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """PostgreSQL, Redis, one frontend build, two backends and HAProxy in front of them; tenant alpha."""
    haproxy = shutil.which("haproxy")
    assert haproxy, "Debian's haproxy is required: ./run test installs it"
    logs = tmp_path_factory.mktemp("replica-logs")
    db_url = asyncio.run(create_database())
    migrate.upgrade(db_url)
    redis.Redis.from_url(CLUSTER_REDIS_URL).flushdb()
    lb_port, ports = free_port(), {"web1": free_port(), "web2": free_port()}
    env = {
        **os.environ, "SG_DATABASE_URL": db_url, "SG_REDIS_URL": CLUSTER_REDIS_URL, "SG_WEB_PORT": str(lb_port),
        "SG_ENV": "test", "SG_DATA_DIR": str(logs / "data"),
        "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{os.environ['PATH']}",
        "REFLEX_USE_SYSTEM_BUN": "1", "REFLEX_CHECK_LATEST_VERSION": "0", "TELEMETRY_ENABLED": "false",
        "SG_LB_BIND": f"127.0.0.1:{lb_port}", "SG_WEB_1": f"127.0.0.1:{ports['web1']}",
        "SG_WEB_2": f"127.0.0.1:{ports['web2']}",
        # A build folder of its own: the session's live app keeps the shared .web (and its lock) while it runs.
        "REFLEX_WEB_WORKDIR": str(logs / "web"),
    }
    # Pub/sub channels are server-wide, not per Redis database: a tenant id no other test's tenant has keeps
    # their events out of these tabs' counts.
    psql = ["psql", "-Atq", db_url.replace("+asyncpg", "")]
    subprocess.run([*psql, "-c", f"alter sequence tenant_id_seq restart with {TENANT_ID}"], check=True)
    seed_tenants(env, ["alpha"], roles=("admin",))
    tenant_id = int(subprocess.run([*psql, "-c", "select id from tenant where name = 'alpha'"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    assert tenant_id == TENANT_ID
    procs: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as files:
        try:
            # The one build: for the balancer's address (SG_WEB_PORT), served by both backends.
            began = time.monotonic()
            with (logs / "build.log").open("wb") as out:
                subprocess.run([str(ROOT / ".venv/bin/reflex"), "export", "--frontend-only", "--no-zip",
                                "--env", "prod"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=True)
            built = time.monotonic()
            backends = {}
            for name, port in ports.items():
                log = files.enter_context((logs / f"{name}.log").open("wb"))
                backends[name] = subprocess.Popen(
                    [str(ROOT / ".venv/bin/python"), "-m", "dashboard.serve", "--host", "127.0.0.1", "--port", str(port)],
                    env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                procs.append(backends[name])
            for name, port in ports.items():
                wait_answering(f"http://127.0.0.1:{port}", backends[name], logs / f"{name}.log")
            print(f"replicas: frontend built in {built - began:.1f} s, both backends answering "
                  f"{time.monotonic() - built:.1f} s later")
            lb_log = files.enter_context((logs / "haproxy.log").open("wb"))
            procs.append(subprocess.Popen([haproxy, "-db", "-f", str(ROOT / "deploy/haproxy.cfg")], env=env,
                                          cwd=ROOT, stdout=lb_log, stderr=subprocess.STDOUT, start_new_session=True))
            wait_answering(f"http://127.0.0.1:{lb_port}", procs[-1], logs / "haproxy.log")
            yield Replicas(LiveApp(f"http://localhost:{lb_port}", env, logs, db_url), backends, tenant_id)
        finally:
            for proc in procs:
                stop(proc)
            asyncio.run(drop_database(db_url))


def _backend_of(replicas: Replicas, token: str) -> str | None:
    return backend_of(CLUSTER_REDIS_URL, replicas.backends, token)


async def _token(page: Page) -> str:
    return str(await page.evaluate("window.sessionStorage.getItem('token')"))


async def _live_count(page: Page) -> int:
    return int((await page.locator("#live-count").inner_text()).split()[-1])


async def _wait_count(page: Page, expected: int) -> None:
    deadline = time.monotonic() + 10
    while (seen := await _live_count(page)) != expected:
        assert time.monotonic() < deadline, f"live count {seen}, expected {expected}"
        await asyncio.sleep(0.1)


def _publish(replicas: Replicas, marker: str) -> int:
    """A live event on alpha's channel; returns how many backends' subscribers took it."""
    body = encode_event(replicas.tenant_id, "replica.check", {"id": marker})
    return cast(int, redis.Redis.from_url(CLUSTER_REDIS_URL).publish(events_channel(replicas.tenant_id), body))


@pytest.mark.timeout(900)  # the one frontend build waits for the other e2e sessions' builds (the .web lock)
async def test_a_tab_survives_its_backend_and_live_events_reach_every_backend(
    browser: Browser, replicas: Replicas
) -> None:
    # Tabs until one is on each backend (the balancer spreads sockets by count; HTTP requests interleave).
    tabs: dict[str, Page] = {}
    for _ in range(6):
        page = await login(browser, replicas.app, "admin@alpha.test")
        await expect(page.locator("#tenant-name")).to_have_text("alpha")
        token = await _token(page)
        for _ in range(50):
            if (where := _backend_of(replicas, token)) is not None:
                break
            await asyncio.sleep(0.1)
        assert where is not None, "the tab's socket is on no backend"
        tabs.setdefault(where, page)
        if len(tabs) == 2:
            break
    assert set(tabs) == {"web1", "web2"}, f"every tab landed on {set(tabs)}"
    doomed, survivor = tabs["web1"], tabs["web2"]

    # A live event reaches the tabs on both backends (each backend's subscriber takes it).
    before = {name: await _live_count(page) for name, page in tabs.items()}
    assert _publish(replicas, "first") >= 2  # at least both backends' subscribers (other tests' apps may listen)
    for name, page in tabs.items():
        await _wait_count(page, before[name] + 1)

    # State only the server holds: the notice of a queued ping, and the count of events received.
    await doomed.evaluate("window.__noReload = true")
    await doomed.click("#trigger-ping")
    notice = doomed.locator("#jobs-notice")
    await expect(notice).to_contain_text("Queued ping #")
    notice_text = await notice.inner_text()
    # The queued ping's own job.updated event (published by the web process that queued it) arrives after the
    # notice: count it in before the kill, or it lands after the count was read and looks like a replay.
    await _wait_count(doomed, before["web1"] + 2)
    count = await _live_count(doomed)
    token = await _token(doomed)

    killed_at = time.monotonic()
    os.killpg(replicas.backends["web1"].pid, signal.SIGKILL)
    replicas.backends["web1"].wait()
    while _backend_of(replicas, token) != "web2":
        assert time.monotonic() - killed_at < 30, "the tab did not reconnect to the other backend within 30 s"
        await asyncio.sleep(0.1)
    failover_s = time.monotonic() - killed_at

    # Same tab, same token, same server-side state; still signed in; no reload.
    assert await _token(doomed) == token
    assert await doomed.evaluate("window.__noReload === true"), "the page reloaded"
    await expect(doomed.locator("#tenant-name")).to_have_text("alpha")
    await expect(notice).to_have_text(notice_text)
    assert await _live_count(doomed) == count

    # Live events still reach both tabs (now both on web2), and the tab still acts.
    survivor_count = await _live_count(survivor)
    assert _publish(replicas, "second") >= 1
    await _wait_count(doomed, count + 1)
    await _wait_count(survivor, survivor_count + 1)
    await doomed.click("#trigger-ping")
    await expect(notice).not_to_have_text(notice_text, timeout=10_000)
    await expect(notice).to_contain_text(re.compile(r"Queued ping #\d+"))
    print(f"failover: the tab was back on web2 {failover_s:.1f} s after SIGKILL of web1")
