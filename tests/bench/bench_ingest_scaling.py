"""Sustained Zeek ingestion through the REST door of a native cluster, with 1, 2 and 3 worker processes.

The cluster is the one of tests/e2e/test_cluster_native.py (tests/e2e/replica_support.py): PostgreSQL, Redis,
moto's S3-compatible store (or the local folder), two web backends behind HAProxy, k ARQ workers (the first
serving both queues, the others the bulk queue). The traffic is RITA's hourly conn.log files
(shared/data/zeek/rita-missing-host) replayed with their timestamps shifted so that each pushed file is a new hour
of traffic (file i is template i % 72, moved 72 h later per cycle, from 2025-01-01 on).

A producer keeps `--in-flight` files between "accepted" (the POST's 202) and "its snapshots built" (the ingest run
succeeded and every build_snapshot run it queued succeeded), for `--minutes` per run. Throughput = flows of the
files completed in the run / the run's length; scaling efficiency = throughput(k) / (k · throughput(1)).
Detection and drift run behind the snapshots on the same workers (the backlog left at the end is printed).

    .venv/bin/python tests/bench/bench_ingest_scaling.py --minutes 4 --workers 1,2,3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import redis  # noqa: E402

from models import migrate  # noqa: E402
from tests.apprunner import CLUSTER_REDIS_URL, free_port, seed_tenants, sg  # noqa: E402
from tests.conftest import SHARED_DATA, create_database, drop_database  # noqa: E402
from tests.e2e.replica_support import (  # noqa: E402
    bucket_env,
    build_frontend,
    cluster_env,
    start_backend,
    start_balancer,
    start_worker,
    stop,
    wait_answering,
    wait_workers,
)
from tests.s3server import moto_server  # noqa: E402

RITA = SHARED_DATA / "zeek" / "rita-missing-host"
SENSOR = "64.225.56.201"
TENANT = "scaling"
START = datetime(2025, 1, 1, tzinfo=UTC)


class Traffic:
    """RITA's 72 hours as templates: `file(i)` is conn.log text for hour START + i (its records moved with it)."""

    def __init__(self) -> None:
        self.templates: list[tuple[int, list[str], list[list[str]], list[str]]] = []  # hour, header, rows, trailer
        for path in sorted(RITA.glob("*/conn.*.log.gz")):
            lines = gzip.decompress(path.read_bytes()).decode().splitlines()
            first = next(i for i, line in enumerate(lines) if line and not line.startswith("#"))
            header = lines[:first]
            trailer = [line for line in lines[first:] if line.startswith("#")]  # #close
            column = next(line for line in header if line.startswith("#fields")).split("\t")[1:].index("ts")
            rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
            hour = int(datetime.strptime(f"{path.parent.name} {path.name[5:7]}", "%Y-%m-%d %H")
                       .replace(tzinfo=UTC).timestamp())
            self.templates.append((hour, header, rows, trailer))
            self.column = column
        assert len(self.templates) == 72, f"expected RITA's 72 hourly files in {RITA}"

    def file(self, index: int) -> tuple[bytes, int]:
        """File `index` and its record count."""
        hour, header, rows, trailer = self.templates[index % 72]
        shift = START.timestamp() + index * 3600 - hour
        out = [*header]
        for row in rows:
            moved = list(row)
            moved[self.column] = f"{float(row[self.column]) + shift:.6f}"
            out.append("\t".join(moved))
        return ("\n".join([*out, *trailer]) + "\n").encode(), len(rows)


@dataclass
class Pending:
    index: int
    job_id: int
    flows: int
    accepted_at: float
    done_at: float | None = None


@dataclass
class Platform:
    logs: Path
    env: dict[str, str]
    lb_port: int
    web_ports: dict[str, int]


@contextlib.contextmanager
def platform(store: str) -> Iterator[Platform]:
    """moto (for a bucket store) and the one frontend build every run's backends serve."""
    logs = Path(tempfile.mkdtemp(prefix="sg-bench-scaling-"))
    lb_port, ports = free_port(), {"web1": free_port(), "web2": free_port()}
    with contextlib.ExitStack() as stack:
        env = cluster_env(db_url="", redis_url=CLUSTER_REDIS_URL, lb_port=lb_port, web_ports=ports, logs=logs)
        if store == "s3":
            env.update(bucket_env(stack.enter_context(moto_server(free_port()))))
        print(f"frontend built in {build_frontend(env, logs):.1f} s (logs in {logs})", flush=True)
        yield Platform(logs, env, lb_port, ports)


async def _completed(connection: asyncpg.Connection, tenant_id: int, pending: list[Pending]) -> None:
    """Mark the files whose ingest run and snapshot runs all succeeded (now)."""
    waiting = {p.job_id: p for p in pending if p.done_at is None}
    if not waiting:
        return
    rows = await connection.fetch("select id, status, result from job_run where tenant_id = $1 and id = any($2)",
                                  tenant_id, list(waiting))
    for row in rows:
        assert row["status"] not in ("failed", "lost", "cancelled"), f"ingest run {row['id']} {row['status']}"
        if row["status"] != "succeeded":
            continue
        snapshot_jobs = json.loads(row["result"])["snapshot_jobs"] if isinstance(row["result"], str) \
            else row["result"]["snapshot_jobs"]
        states = await connection.fetch("select status from job_run where tenant_id = $1 and id = any($2)",
                                        tenant_id, snapshot_jobs)
        assert not [s for s in states if s["status"] in ("failed", "lost", "cancelled")], states
        if all(s["status"] == "succeeded" for s in states):
            waiting[row["id"]].done_at = time.monotonic()


async def _drive(base_url: str, token: str, db: str, tenant_id: int, traffic: Traffic, *, seconds: float,
                 in_flight: int) -> tuple[list[Pending], float]:
    headers = {"Authorization": f"Bearer {token}"}
    pending: list[Pending] = []
    connection = await asyncpg.connect(db)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=120, trust_env=False) as client:
            answer = await client.put("/api/v1/settings/home", headers=headers,
                                      json={"home_networks": [], "sensors": [SENSOR], "home_private": True})
            assert answer.status_code == 200, answer.text
            began = time.monotonic()
            while time.monotonic() - began < seconds:
                if sum(p.done_at is None for p in pending) < in_flight:
                    body, flows = traffic.file(len(pending))
                    answer = await client.post(f"/api/v1/flows?format=zeek&filename=hour-{len(pending)}.log",
                                               content=body, headers=headers)
                    assert answer.status_code == 202, answer.text
                    pending.append(Pending(len(pending), answer.json()["job_id"], flows, time.monotonic()))
                    continue
                await _completed(connection, tenant_id, pending)
                await asyncio.sleep(0.2)
            await _completed(connection, tenant_id, pending)
            return pending, time.monotonic() - began
    finally:
        await connection.close()


def run(base: Platform, traffic: Traffic, workers: int, minutes: float, in_flight: int) -> dict[str, float]:
    """One run with `workers` worker processes on a fresh database and Redis DB."""
    db_url = asyncio.run(create_database())
    migrate.upgrade(db_url)
    redis.Redis.from_url(CLUSTER_REDIS_URL).flushdb()
    logs = base.logs / f"run-{workers}"
    logs.mkdir()
    env = {**base.env, "SG_DATABASE_URL": db_url, "SG_FLOW_PUSHES_PER_MINUTE": "100000"}
    tenant_id = random.randrange(800_000, 900_000)  # pub/sub channels are server-wide: a tenant id of its own
    subprocess.run(["psql", "-Atq", db_url.replace("+asyncpg", ""), "-c",
                    f"alter sequence tenant_id_seq restart with {tenant_id}"], check=True)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        seed_tenants(env, [TENANT], roles=("admin",))
        sg(env, "tenant", "set-window", TENANT, "1h")
        token = sg(env, "token", "create", "--tenant", TENANT, "--role", "admin", "--user", f"admin@{TENANT}.test")
        backends = {name: start_backend(name, port, env, logs) for name, port in base.web_ports.items()}
        procs += backends.values()
        procs += [start_worker(f"worker-{i}", "both" if i == 0 else "bulk", env, logs) for i in range(workers)]
        for name, port in base.web_ports.items():
            wait_answering(f"http://127.0.0.1:{port}", backends[name], logs / f"{name}.log")
        procs.append(balancer := start_balancer(env, logs))
        wait_answering(f"http://127.0.0.1:{base.lb_port}", balancer, logs / "haproxy.log")
        wait_workers(CLUSTER_REDIS_URL, workers)
        pending, elapsed = asyncio.run(_drive(f"http://127.0.0.1:{base.lb_port}", token,
                                              db_url.replace("+asyncpg", ""), tenant_id, traffic,
                                              seconds=minutes * 60, in_flight=in_flight))
        backlog = subprocess.run(["psql", "-Atq", db_url.replace("+asyncpg", ""), "-c",
                                  "select name || ':' || count(*) from job_run where status in "
                                  "('queued', 'running', 'retrying') group by name"],
                                 capture_output=True, text=True, check=True).stdout.split()
    finally:
        for proc in procs:
            stop(proc)
        asyncio.run(drop_database(db_url))
    done = [p for p in pending if p.done_at is not None]
    latencies = sorted((p.done_at or 0) - p.accepted_at for p in done)
    figures = {"workers": workers, "files": len(done), "flows": sum(p.flows for p in done), "seconds": elapsed,
               "flows_per_s": sum(p.flows for p in done) / elapsed,
               "p50_s": statistics.median(latencies) if latencies else float("nan"),
               "p95_s": latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")}
    print(f"{workers} worker(s): {figures['files']} files, {figures['flows']:,} flows in {elapsed:.0f} s = "
          f"{figures['flows_per_s']:.0f} flows/s; file accepted → snapshots built p50 {figures['p50_s']:.1f} s, "
          f"p95 {figures['p95_s']:.1f} s; backlog at the end {backlog or 'none'}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=4.0, help="traffic pushed per run")
    parser.add_argument("--workers", default="1,2,3", help="worker counts to run, comma-separated")
    parser.add_argument("--in-flight", type=int, default=4, help="files accepted but not yet built, at most")
    parser.add_argument("--store", choices=("s3", "local"), default="s3")
    args = parser.parse_args()
    traffic = Traffic()
    results: dict[int, dict[str, float]] = {}
    with platform(args.store) as base:
        for workers in [int(w) for w in args.workers.split(",")]:
            results[workers] = run(base, traffic, workers, args.minutes, args.in_flight)
    if 1 in results:
        one = results[1]["flows_per_s"]
        for workers, figures in results.items():
            print(f"scaling efficiency with {workers} worker(s): {figures['flows_per_s'] / (workers * one):.2f} "
                  f"({figures['flows_per_s']:.0f} vs {one:.0f} flows/s with 1)")


if __name__ == "__main__":
    main()
