"""Start the real app (Reflex web + ARQ worker) on a fresh PostgreSQL database.

Used by the e2e tests and the benchmarks, so both measure the same thing users run.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

from models import migrate
from tests.conftest import ROOT, create_database, drop_database

E2E_REDIS_URL = os.environ.get("SG_E2E_REDIS_URL", "redis://127.0.0.1:6379/10")
# The multi-backend tests (replicas, native cluster, scaling bench) flush and queue jobs on a database of their
# own: on the live app's, its worker would take their jobs and run them against another SQL database.
CLUSTER_REDIS_URL = os.environ.get("SG_CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/12")
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
    database_url: str


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sg(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run the `sg` CLI and return its stdout."""
    done = subprocess.run([str(ROOT / ".venv/bin/sg"), *args], env=env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def seed_tenants(env: dict[str, str], tenants: list[str], roles: tuple[str, ...] = ("admin", "approver", "analyst", "viewer")) -> None:
    """Tenants with one user per role, `<role>@<tenant>.test`, all with PASSWORD."""
    for tenant in tenants:
        sg(env, "tenant", "create", tenant)
        for role in roles:
            sg(env, "user", "create", "--tenant", tenant, "--email", f"{role}@{tenant}.test", "--role", role,
               stdin=PASSWORD + "\n")


def _wait_healthy(url: str, procs: list[subprocess.Popen[bytes]], log_dir: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"app process exited early; logs in {log_dir}: "
                                   + (log_dir / "web.log").read_text()[-2000:])
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
            if httpx.get(f"{url}/api/v1/health", timeout=2, trust_env=False).json()["status"] == "ok":
                return
        time.sleep(0.5)
    raise RuntimeError(f"the app did not become healthy within {timeout} s; logs in {log_dir}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def _web_dir_lock() -> Iterator[None]:
    # Every `reflex run` compiles into the one .web folder: two at once would corrupt it.
    (ROOT / ".run").mkdir(exist_ok=True)
    with (ROOT / ".run" / "web.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def running_app(
    log_dir: Path, tenants: list[str], redis_url: str = E2E_REDIS_URL, extra_env: dict[str, str] | None = None,
) -> Iterator[LiveApp]:
    """Web + worker on a free port, a fresh database with `tenants` seeded through the CLI.

    `extra_env` is added to the processes' environment; an SG_WEB_PORT in it fixes the port (the SSO tests
    register the app's callback URL at their OpenID Provider before the app starts).
    """
    with _web_dir_lock():
        yield from _running_app(log_dir, tenants, redis_url, extra_env or {})


def _running_app(log_dir: Path, tenants: list[str], redis_url: str, extra_env: dict[str, str]) -> Iterator[LiveApp]:
    db_url = asyncio.run(create_database())
    migrate.upgrade(db_url)
    redis.Redis.from_url(redis_url).flushdb()
    port = int(extra_env.get("SG_WEB_PORT") or free_port())
    env = {
        **os.environ, "SG_DATABASE_URL": db_url, "SG_REDIS_URL": redis_url, "SG_WEB_PORT": str(port),
        "SG_ENV": "test", "SG_DATA_DIR": str(log_dir / "data"), "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{os.environ['PATH']}",
        "REFLEX_USE_SYSTEM_BUN": "1", "REFLEX_CHECK_LATEST_VERSION": "0", "TELEMETRY_ENABLED": "false",
    }
    env.update(extra_env)
    seed_tenants(env, tenants)
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
        yield LiveApp(f"http://localhost:{port}", env, log_dir, db_url)
    finally:
        for proc in procs:
            _stop(proc)
        worker_log.close()
        web_log.close()
        asyncio.run(drop_database(db_url))
