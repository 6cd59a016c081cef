"""SecureGuard as a cluster on one machine, for the replica tests and the scaling bench: one frontend build, web
backends (`python -m dashboard.serve`, as the Dockerfile runs them) behind HAProxy (deploy/haproxy.cfg), ARQ worker
processes, and optionally moto's S3-compatible server as the object store. Every process runs in a process group of
its own, so a test can SIGKILL one replica or worker and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import httpx
import redis

from dashboard.replicas import alive_key
from jobs.runtime.constants import WORKER_KEY_PATTERN
from tests.conftest import ROOT
from tests.s3server import CREDENTIALS, MotoServer

TOKEN_RECORD = "token_manager_socket_record_{}"  # Reflex's record of which instance holds a tab's socket
# A worker process per ARQ settings class of jobs.worker.
WORKER_SETTINGS = {"both": "jobs.worker.WorkerSettings", "interactive": "jobs.worker.InteractiveWorker",
                   "bulk": "jobs.worker.BulkWorker"}


def wait_answering(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    """Return once `url`/api/v1/health answers 200; RuntimeError (with the log's tail) when `proc` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited early: {log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/v1/health", timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s: {log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process's group, SIGKILL after 15 s."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process's group (no goodbye to Redis, PostgreSQL or the tabs) and reap it."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def backend_of(redis_url: str, backends: Mapping[str, subprocess.Popen[bytes]], token: str) -> str | None:
    """Which backend holds this tab's socket: Reflex's socket record names the instance, whose heartbeat names
    its process (a process of the backend's group)."""
    client = redis.Redis.from_url(redis_url)
    raw = cast(bytes | None, client.get(TOKEN_RECORD.format(token)))
    if raw is None:
        return None
    beat = cast(bytes | None, client.get(alive_key(pickle.loads(raw).instance_id)))  # Reflex's own record
    if beat is None:
        return None
    pid = json.loads(beat)["pid"]
    with contextlib.suppress(ProcessLookupError):
        group = os.getpgid(pid)
        return next((name for name, proc in backends.items() if proc.pid == group), None)
    return None


def cluster_env(*, db_url: str, redis_url: str, lb_port: int, web_ports: Mapping[str, int], logs: Path) -> dict[str, str]:
    """The environment every process of the cluster shares: the balancer's address (the frontend is built for
    it, SG_LB_BIND/SG_WEB_n for deploy/haproxy.cfg) and a build folder of the cluster's own (the session's live
    app keeps the shared .web and its lock while it runs)."""
    env = {
        **os.environ, "SG_DATABASE_URL": db_url, "SG_REDIS_URL": redis_url, "SG_WEB_PORT": str(lb_port),
        "SG_ENV": "test", "SG_DATA_DIR": str(logs / "data"),
        "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{ROOT / '.venv/bin'}:{os.environ['PATH']}",
        "REFLEX_USE_SYSTEM_BUN": "1", "REFLEX_CHECK_LATEST_VERSION": "0", "TELEMETRY_ENABLED": "false",
        "SG_LB_BIND": f"127.0.0.1:{lb_port}", "REFLEX_WEB_WORKDIR": str(logs / "web"),
    }
    env.update({f"SG_WEB_{i}": f"127.0.0.1:{port}" for i, port in enumerate(web_ports.values(), start=1)})
    return env


def bucket_env(server: MotoServer) -> dict[str, str]:
    """Environment that points the store at a fresh bucket of `server`."""
    return {**CREDENTIALS, "AWS_ENDPOINT_URL": server.endpoint, "SG_STORE_URL": f"s3://{server.new_bucket()}/sg"}


def build_frontend(env: Mapping[str, str], logs: Path) -> float:
    """`reflex export --frontend-only` into env's REFLEX_WEB_WORKDIR; seconds it took."""
    began = time.monotonic()
    with (logs / "build.log").open("wb") as out:
        subprocess.run([str(ROOT / ".venv/bin/reflex"), "export", "--frontend-only", "--no-zip", "--env", "prod"],
                       env=dict(env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=True)
    return time.monotonic() - began


def _spawn(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, env=dict(env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def start_backend(name: str, port: int, env: Mapping[str, str], logs: Path) -> subprocess.Popen[bytes]:
    """One web replica serving the build on `port` (wait for it with wait_answering)."""
    return _spawn([str(ROOT / ".venv/bin/python"), "-m", "dashboard.serve", "--host", "127.0.0.1", "--port", str(port)],
                  env, logs / f"{name}.log")


def start_balancer(env: Mapping[str, str], logs: Path) -> subprocess.Popen[bytes]:
    """HAProxy with deploy/haproxy.cfg, in front of env's SG_WEB_1 and SG_WEB_2."""
    haproxy = shutil.which("haproxy")
    assert haproxy, "Debian's haproxy is required: ./run test installs it"
    return _spawn([haproxy, "-db", "-f", str(ROOT / "deploy/haproxy.cfg")], env, logs / "haproxy.log")


def start_worker(name: str, kind: str, env: Mapping[str, str], logs: Path) -> subprocess.Popen[bytes]:
    """An `arq` worker process of settings `kind` (WORKER_SETTINGS), with a data folder of its own (another
    machine's disk: with a bucket store, nothing is shared but the bucket, PostgreSQL and Redis)."""
    own = {**env, "SG_DATA_DIR": str(logs / f"data-{name}")}
    return _spawn([str(ROOT / ".venv/bin/arq"), WORKER_SETTINGS[kind]], own, logs / f"{name}.log")


def wait_workers(redis_url: str, count: int, timeout: float = 60) -> None:
    """Return once `count` worker heartbeats are in Redis (jobs.runtime.heartbeat)."""
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while len(list(client.scan_iter(WORKER_KEY_PATTERN))) < count:
        assert time.monotonic() < deadline, f"fewer than {count} workers started within {timeout} s"
        time.sleep(0.2)
