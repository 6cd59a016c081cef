"""Services a fault test owns and may kill: its own redis-server and its own PostgreSQL cluster (initdb/pg_ctl in a
temporary folder), on ports of their own, and SecureGuard's worker as a subprocess. The machine's shared Redis and
PostgreSQL are never touched."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from jobs.runtime.connections import get_redis
from jobs.runtime.monitor import live_worker_ids
from jobs.tasks.sweeper import GRACE, sweep_tenant
from models.db import session_scope
from models.queries import jobs as job_queries
from models.settings import get_settings
from models.types import utcnow
from tests.integration.drift_support import push
from tests.s3server import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[3]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


class RedisServer:
    """redis-server on 127.0.0.1:`port`, no persistence: a restart comes back empty, the worst case."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder, self.port = folder, port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, everything in memory gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Postgres:
    """A throw-away PostgreSQL 15 cluster with trust auth on 127.0.0.1:`port`, in a folder of its own under /tmp
    (as root, run as the `postgres` user: initdb refuses root). `remove` deletes it."""

    def __init__(self, port: int | None = None) -> None:
        self.folder, self.port = Path(tempfile.mkdtemp(prefix="sg-fault-pg-")), port or free_port()
        self.data = self.folder / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*self._as, str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                        "--no-sync"], check=True, capture_output=True)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run([*self._as, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-o",
                        options, "-w", *args], check=True, capture_output=True)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """`pg_ctl restart -m immediate`: every connection cut, no checkpoint, then back up."""
        self._ctl("restart", "-m", "immediate")

    def stop(self) -> None:
        self._ctl("stop", "-m", "immediate")

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, name: str) -> None:
        subprocess.run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
                       check=True, capture_output=True)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """SecureGuard's worker on both queues under `./run supervise`, as `./run demo` keeps it: started again when
    it exits (ARQ's worker ends when its Redis connection drops)."""
    return subprocess.Popen([str(ROOT / "run"), "supervise", "worker", str(log), str(ROOT / ".venv/bin/arq"),
                             "jobs.worker.WorkerSettings"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def restarts(log: Path) -> int:
    """How often the supervisor started the worker again."""
    return log.read_text(errors="replace").count("supervisor: worker exited") if log.exists() else 0


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def service_env(**values: str) -> dict[str, str]:
    """The environment of a subprocess: this one's plus `values` (SG_…)."""
    return {**os.environ, **values}


def wait_until(check: object, seconds: float) -> None:
    """Poll a callable until it returns true (sync helper for subprocess states)."""
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s")
        time.sleep(0.05)


def use_services(monkeypatch: pytest.MonkeyPatch, data_dir: Path, *, database_url: str, redis_url: str) -> None:
    """Point this process (and the worker it starts with `service_env()`) at the test's database and Redis."""
    monkeypatch.setenv("SG_DATABASE_URL", database_url)
    monkeypatch.setenv("SG_REDIS_URL", redis_url)
    monkeypatch.setenv("SG_ENV", "test")
    monkeypatch.setenv("SG_DATA_DIR", str(data_dir))
    get_settings.cache_clear()


async def job_statuses(tenant_id: int) -> dict[str, int]:
    """The tenant's job runs counted by status."""
    async with session_scope() as session:
        return await job_queries.count_job_runs_by_status(session, tenant_id=tenant_id)


async def sweep_past_grace(tenant_id: int) -> None:
    """What the sweeper's cron does a minute later, past its grace (the cron itself runs in the worker too)."""
    redis = get_redis()
    await sweep_tenant(redis, tenant_id=tenant_id, live=await live_worker_ids(redis), now=utcnow() + GRACE)


async def push_until_running(api: httpx.AsyncClient, token: str, files: Sequence[Path], *, tenant_id: int,
                             polls: int) -> None:
    """Push `files`, then wait (up to `polls` × 25 ms) until a job runs on the worker: mid-ingestion."""
    for path in files:
        await push(api, token, path)
    for _ in range(polls):
        if (await job_statuses(tenant_id))["running"]:
            break
        await asyncio.sleep(0.025)
