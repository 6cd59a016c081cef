"""The real app (Reflex web + ARQ worker) on a fresh PostgreSQL database, driven by Chromium."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from playwright.async_api import Browser, Page, async_playwright

from models import migrate
from tests.conftest import ROOT, create_database, drop_database

E2E_REDIS_URL = os.environ.get("SG_E2E_REDIS_URL", "redis://127.0.0.1:6379/10")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
PASSWORD = "e2e-password-1"


@dataclass(frozen=True)
class LiveApp:
    base_url: str
    env: dict[str, str]
    log_dir: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sg(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(ROOT / ".venv/bin/sg"), *args], env=env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _wait_healthy(url: str, procs: list[subprocess.Popen[bytes]], log_dir: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"app process exited early; logs in {log_dir}: "
                                   + (log_dir / "web.log").read_text()[-2000:])
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).json()["status"] == "ok":
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the app did not become healthy within {timeout} s; logs in {log_dir}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Start web + worker once for the e2e session, with tenants alpha and bravo seeded by the CLI."""
    db_url = asyncio.run(create_database())
    migrate.upgrade(db_url)
    redis.Redis.from_url(E2E_REDIS_URL).flushdb()
    port = _free_port()
    log_dir = tmp_path_factory.mktemp("e2e-logs")
    env = {
        **os.environ, "SG_DATABASE_URL": db_url, "SG_REDIS_URL": E2E_REDIS_URL, "SG_WEB_PORT": str(port),
        "SG_ENV": "test", "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{os.environ['PATH']}",
        "REFLEX_USE_SYSTEM_BUN": "1", "REFLEX_CHECK_LATEST_VERSION": "0", "TELEMETRY_ENABLED": "false",
    }
    for tenant in ("alpha", "bravo"):
        _sg(env, "tenant", "create", tenant)
        for role in ("admin", "viewer"):
            _sg(env, "user", "create", "--tenant", tenant, "--email", f"{role}@{tenant}.test", "--role", role,
                stdin=PASSWORD + "\n")
    worker_log, web_log = (log_dir / "worker.log").open("wb"), (log_dir / "web.log").open("wb")
    procs = [
        subprocess.Popen([str(ROOT / ".venv/bin/arq"), "jobs.worker.WorkerSettings"], env=env, cwd=ROOT,
                         stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True),
        subprocess.Popen([str(ROOT / ".venv/bin/reflex"), "run", "--env", "prod", "--single-port",
                          "--frontend-port", str(port), "--backend-port", str(port)],
                         env=env, cwd=ROOT, stdout=web_log, stderr=subprocess.STDOUT, start_new_session=True),
    ]
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", procs, log_dir)
        yield LiveApp(f"http://localhost:{port}", env, log_dir)
    finally:
        for proc in procs:
            _stop(proc)
        worker_log.close()
        web_log.close()
        asyncio.run(drop_database(db_url))


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Debian's chromium is required: ./run test installs it"
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def login(browser: Browser, app: LiveApp, email: str, password: str = PASSWORD) -> Page:
    """A new browser context signed in as `email`, on the Jobs page."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{app.base_url}/login")
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.press("#password", "Enter")
    await page.wait_for_selector("#jobs-table, #jobs-empty", timeout=20_000)
    return page
