"""The whole cluster natively on one machine (issue item 5): PostgreSQL, Redis, moto's S3-compatible server as the
object store, two web backends behind HAProxy and three ARQ workers (one serving both queues, two the bulk queue),
each process with a data folder of its own. RITA's three days of Zeek conn logs go in through the balancer's REST
door; one bulk worker is SIGKILLed while it runs ingest/snapshot jobs, and the web backend of a signed-in tab is
SIGKILLed too. Afterwards every hourly window has exactly one snapshot, no drift event or incident exists twice by
its natural key, no job is left queued or running, and the tab (reconnected to the other backend) still receives
live events.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import random
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import asyncpg
import httpx
import pytest
import redis
from playwright.async_api import Browser, Page, expect

from jobs.runtime.queues import QUEUES
from jobs.worker import CRON_JOBS
from models import migrate
from tests.apprunner import CLUSTER_REDIS_URL, LiveApp, free_port, seed_tenants, sg
from tests.conftest import SHARED_DATA, create_database, drop_database
from tests.e2e.conftest import login
from tests.e2e.replica_support import (
    backend_of,
    bucket_env,
    build_frontend,
    cluster_env,
    kill,
    start_backend,
    start_balancer,
    start_worker,
    stop,
    wait_answering,
    wait_workers,
)
from tests.s3server import moto_server

pytestmark = pytest.mark.e2e
TENANT = "cluster"
SENSOR = "64.225.56.201"  # RITA's sensor (the sample's README)
RITA = SHARED_DATA / "zeek" / "rita-missing-host"
WORKERS = {"worker-both": "both", "worker-bulk-1": "bulk", "worker-bulk-2": "bulk"}
ACTIVE = ("queued", "running", "retrying")


@dataclass
class Cluster:
    app: LiveApp  # base_url is the balancer's
    backends: dict[str, subprocess.Popen[bytes]]
    workers: dict[str, subprocess.Popen[bytes]]
    tenant_id: int
    timings: dict[str, float] = field(default_factory=dict)

    def pg(self) -> str:
        return self.app.database_url.replace("+asyncpg", "")


def _rita_files() -> list[Path]:
    files = sorted(RITA.glob("*/conn.*.log.gz"))
    assert len(files) == 72, f"expected RITA's 72 hourly files in {RITA}"
    return files


def _hours_in(files: list[Path]) -> set[int]:
    """The hours (epoch // 3600) the files' connections start in, read independently of the app's parser."""
    hours: set[int] = set()
    for path in files:
        column = 0
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            if line.startswith("#fields"):
                column = line.split("\t")[1:].index("ts")
            elif line and not line.startswith("#"):
                hours.add(int(float(line.split("\t")[column]) // 3600))
    return hours


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    began = time.monotonic()
    logs = tmp_path_factory.mktemp("cluster-logs")
    db_url = asyncio.run(create_database())
    migrate.upgrade(db_url)
    redis.Redis.from_url(CLUSTER_REDIS_URL).flushdb()
    lb_port, ports = free_port(), {"web1": free_port(), "web2": free_port()}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with moto_server(free_port()) as s3:
            env = {**cluster_env(db_url=db_url, redis_url=CLUSTER_REDIS_URL, lb_port=lb_port, web_ports=ports, logs=logs),
                   **bucket_env(s3)}
            # Pub/sub channels are server-wide, not per Redis database: a tenant id no other test's tenant has
            # keeps other apps' events out of this tab's count (and this cluster's out of theirs).
            tenant_id = random.randrange(700_000, 800_000)
            subprocess.run(["psql", "-Atq", db_url.replace("+asyncpg", ""), "-c",
                            f"alter sequence tenant_id_seq restart with {tenant_id}"], check=True)
            seed_tenants(env, [TENANT], roles=("admin",))
            sg(env, "tenant", "set-window", TENANT, "1h")
            timings = {"setup (db, moto, tenant)": time.monotonic() - began}
            timings["frontend build"] = build_frontend(env, logs)
            mark = time.monotonic()
            backends = {name: start_backend(name, port, env, logs) for name, port in ports.items()}
            procs += backends.values()
            workers = {name: start_worker(name, kind, env, logs) for name, kind in WORKERS.items()}
            procs += workers.values()
            for name, port in ports.items():
                wait_answering(f"http://127.0.0.1:{port}", backends[name], logs / f"{name}.log")
            procs.append(balancer := start_balancer(env, logs))
            wait_answering(f"http://127.0.0.1:{lb_port}", balancer, logs / "haproxy.log")
            wait_workers(CLUSTER_REDIS_URL, len(WORKERS))
            timings["backends, balancer and workers up"] = time.monotonic() - mark
            yield Cluster(LiveApp(f"http://localhost:{lb_port}", env, logs, db_url), backends, workers, tenant_id,
                          timings)
    finally:
        for proc in procs:
            stop(proc)
        asyncio.run(drop_database(db_url))


async def _running_on(cluster: Cluster, names: tuple[str, ...]) -> dict[str, int]:
    """Running runs of these jobs per worker process of the cluster."""
    pids = {f"{os.uname().nodename}:{proc.pid}": name for name, proc in cluster.workers.items()}
    connection = await asyncpg.connect(cluster.pg())
    try:
        rows = await connection.fetch("select worker_id, count(*) from job_run where tenant_id = $1 and "
                                      "status = 'running' and name = any($2) group by worker_id",
                                      cluster.tenant_id, list(names))
    finally:
        await connection.close()
    return {pids[r["worker_id"]]: r["count"] for r in rows if r["worker_id"] in pids}


async def _kill_a_busy_bulk_worker(cluster: Cluster) -> tuple[str, dict[str, int]]:
    """SIGKILL the bulk-only worker running the most ingest/snapshot jobs, as soon as one runs any."""
    deadline = time.monotonic() + 60
    while True:
        busy = {name: n for name, n in (await _running_on(cluster, ("ingest_flows", "build_snapshot"))).items()
                if WORKERS[name] == "bulk"}
        if busy:
            victim = max(busy, key=lambda name: busy[name])
            kill(cluster.workers[victim])
            return victim, busy
        assert time.monotonic() < deadline, "no bulk worker ran an ingest or snapshot job within 60 s"
        await asyncio.sleep(0.05)


async def _push(client: httpx.AsyncClient, token: str, files: list[Path]) -> list[int]:
    ids = []
    for path in files:
        answer = await client.post(f"/api/v1/flows?format=zeek&filename={path.parent.name}-{path.name}",
                                   content=path.read_bytes(), headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["upload_id"])
    return ids


async def _settled(cluster: Cluster, uploads: int, within: float) -> dict[str, int]:
    """Wait until every upload is parsed and no run is queued, running or retrying (twice in a row, 1 s apart:
    a finishing run queues its follow-ups); the runs' counts by status."""
    deadline, quiet = time.monotonic() + within, 0
    connection = await asyncpg.connect(cluster.pg())
    try:
        while True:
            statuses = dict(await connection.fetch("select status, count(*) from job_run where tenant_id = $1 "
                                                   "group by status", cluster.tenant_id))
            parsed = await connection.fetchval("select count(*) from flow_upload where tenant_id = $1 and status "
                                               "<> 'received'", cluster.tenant_id)
            quiet = quiet + 1 if parsed == uploads and not any(statuses.get(s) for s in ACTIVE) else 0
            if quiet >= 2:
                return statuses
            assert time.monotonic() < deadline, f"not settled after {within} s: {statuses}, {parsed} uploads parsed"
            await asyncio.sleep(1)
    finally:
        await connection.close()


async def _live_count(page: Page) -> int:
    return int((await page.locator("#live-count").inner_text()).split()[-1])


@pytest.mark.timeout(900)
async def test_a_cluster_builds_every_window_once_through_a_worker_and_a_web_replica_killed(
    browser: Browser, cluster: Cluster
) -> None:
    timings, began = cluster.timings, time.monotonic()
    files = _rita_files()
    expected_hours = _hours_in(files)
    token = sg(cluster.app.env, "token", "create", "--tenant", TENANT, "--role", "admin", "--user",
               f"admin@{TENANT}.test")
    headers = {"Authorization": f"Bearer {token}"}

    # A signed-in tab through the balancer; the backend holding its socket is the one that dies.
    page = await login(browser, cluster.app, f"admin@{TENANT}.test")
    await expect(page.locator("#tenant-name")).to_have_text(TENANT)
    await page.evaluate("window.__noReload = true")
    tab = str(await page.evaluate("window.sessionStorage.getItem('token')"))
    while (doomed := backend_of(CLUSTER_REDIS_URL, cluster.backends, tab)) is None:
        assert time.monotonic() - began < 30, "the tab's socket is on no backend"
        await asyncio.sleep(0.1)
    survivor = next(name for name in cluster.backends if name != doomed)
    timings["tab signed in"] = time.monotonic() - began

    async with httpx.AsyncClient(base_url=cluster.app.base_url, timeout=60, trust_env=False) as client:
        home = {"home_networks": [], "sensors": [SENSOR], "home_private": True}
        answer = await client.put("/api/v1/settings/home", json=home, headers=headers)
        assert answer.status_code == 200, answer.text

        # Days one and two; a bulk worker dies while it parses or builds.
        mark = time.monotonic()
        pushing = asyncio.create_task(_push(client, token, files[:48]))
        victim, busy = await _kill_a_busy_bulk_worker(cluster)
        timings["SIGKILL of a worker, after the first push"] = time.monotonic() - mark
        uploads = await pushing
        timings["48 files pushed"] = time.monotonic() - mark
        print(f"cluster: SIGKILL {victim} while it ran {busy[victim]} ingest/snapshot jobs ({busy})")

        # The tab's backend dies; the tab reconnects through the balancer to the other one, still signed in.
        mark = time.monotonic()
        kill(cluster.backends[doomed])
        while backend_of(CLUSTER_REDIS_URL, cluster.backends, tab) != survivor:
            assert time.monotonic() - mark < 30, "the tab did not reconnect to the other backend within 30 s"
            await asyncio.sleep(0.1)
        timings[f"tab back on {survivor} after SIGKILL of {doomed}"] = time.monotonic() - mark
        assert await page.evaluate("window.__noReload === true"), "the page reloaded"
        await expect(page.locator("#tenant-name")).to_have_text(TENANT)

        # Day three through the surviving backend: its jobs' live events reach the tab.
        count = await _live_count(page)
        mark = time.monotonic()
        uploads += await _push(client, token, files[48:])
        while await _live_count(page) <= count:
            assert time.monotonic() - mark < 60, "the tab received no live event after its backend was killed"
            await asyncio.sleep(0.1)
        timings["first live event on the reconnected tab"] = time.monotonic() - mark

        mark = time.monotonic()
        statuses = await _settled(cluster, len(uploads), within=600)
        timings["settled (every run finished)"] = time.monotonic() - mark

    connection = await asyncpg.connect(cluster.pg())
    try:
        tid = cluster.tenant_id
        upload_states = dict(await connection.fetch(
            "select status, count(*) from flow_upload where tenant_id = $1 group by status", tid))
        windows = await connection.fetch(
            "select window_start, count(*) as n from snapshot where tenant_id = $1 group by window_start", tid)
        unbuilt = await connection.fetchval(
            "select count(*) from snapshot where tenant_id = $1 and (status <> 'ready' or built_at is null)", tid)
        drift_twice = await connection.fetch(
            "select window_start, origin, signature, count(*) from drift_event where tenant_id = $1 "
            "group by window_start, origin, signature having count(*) > 1", tid)
        incidents_twice = await connection.fetch(
            "select key, first_seen, count(*) from incident where tenant_id = $1 group by key, first_seen "
            "having count(*) > 1", tid)
        drift_events = await connection.fetchval("select count(*) from drift_event where tenant_id = $1", tid)
        incidents = await connection.fetchval("select count(*) from incident where tenant_id = $1", tid)
        lost = await connection.fetch(
            "select id, name, status from job_run where tenant_id = $1 and status in ('lost', 'failed')", tid)
        retried = await connection.fetch(
            "select retry_of, status from job_run where tenant_id = $1 and retry_of is not null", tid)
    finally:
        await connection.close()
    # ARQ holds nothing but the cron entries it queues ahead of their slot (job id `<cron name>:<ms>`)
    crons = {job.name for job in CRON_JOBS}
    queued = [cast(list[bytes], redis.Redis.from_url(CLUSTER_REDIS_URL).zrange(queue, 0, -1)) for queue in QUEUES]
    arq_left = [job for jobs in queued for job in jobs if job.decode().split(":")[0] not in crons]

    print("cluster timings: " + "; ".join(f"{what} {seconds:.1f} s" for what, seconds in timings.items()))
    print(f"cluster: runs {statuses}, uploads {upload_states}, {len(windows)} windows, {drift_events} drift events,"
          f" {incidents} incidents, lost/failed {[tuple(r) for r in lost]}, ARQ queues {arq_left}")
    assert upload_states == {"ingested": 72}, upload_states
    # every hourly window of the data built exactly once: one snapshot row each, one per hour the data has
    assert [tuple(w) for w in windows if w["n"] != 1] == []
    assert {int(w["window_start"].timestamp()) // 3600 for w in windows} == expected_hours
    assert len(windows) == len(expected_hours) and unbuilt == 0
    assert drift_twice == [] and incidents_twice == []
    # no run left behind: none failed, the killed worker's runs were given up as lost and each re-queued once
    assert not any(statuses.get(s) for s in ACTIVE) and "failed" not in statuses, statuses
    assert statuses.get("lost", 0) >= 1, "the killed worker's runs were never declared lost"
    outcome = {r["retry_of"]: r["status"] for r in retried}
    assert all(outcome.get(r["id"]) == "succeeded" for r in lost if r["status"] == "lost"), (lost, outcome)
    assert arq_left == []
