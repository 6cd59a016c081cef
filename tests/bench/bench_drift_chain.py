"""Issue 4 benchmark (whole chain): windows of 50,000 edges each, through the real jobs.

    SG_BENCH_REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python tests/bench/bench_drift_chain.py \
        [--edges 50000] [--windows 2]

Writes hourly windows of canonical CSV flows (5,000 workloads in 40 namespaces, one flow per edge,
volumes varying from window to window; 2 % churn and 20 volume spikes in the last one), uploads them
one after the other to a fresh PostgreSQL database with an in-process ARQ worker, and reports each
job's own duration from its job_run (started → finished). Each window's `detect_incidents` (read the
connections, detect, fold the findings into incidents, save the detection state, publish) prints its own
seconds per phase. The drift chain is the last window's `detect_drift`: load its sidecar, the previous window
and the baseline, detect, score, explain, persist the events, fold them into incidents, publish. The issue's case is two windows; `--windows 8` gives a baseline deep
enough (6 windows) for the volume-spike detector to run on every edge.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

REDIS_URL = os.environ.get("SG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
os.environ["SG_TEST_REDIS_URL"] = REDIS_URL
START = datetime(2024, 4, 19, tzinfo=UTC)
WORKLOADS = 5000


def window_frame(edges: int, hour: int, churn: float, spikes: int) -> pl.DataFrame:
    """One flow per edge in the window starting `hour` hours after START."""
    stable, rng = random.Random(1), random.Random(100 + hour)
    names = [(f"ns{i % 40}", f"svc{i}") for i in range(WORKLOADS)]
    seen: set[tuple[int, int, int]] = set()
    while len(seen) < edges:
        seen.add((stable.randrange(WORKLOADS), stable.randrange(WORKLOADS), stable.choice((80, 443, 5432, 6379, 8080))))
    rows = []
    base = START + timedelta(hours=hour)
    for index, (src, dst, port) in enumerate(sorted(seen)):
        if rng.random() < churn:
            dst = rng.randrange(WORKLOADS)
        volume = rng.randint(1_000, 100_000) * (500 if index < spikes else 1)
        ts = base + timedelta(seconds=rng.randrange(3500))
        rows.append((ts, f"10.{src // 250}.{src % 250}.1", 40000 + index % 20000, f"10.{dst // 250}.{dst % 250}.1",
                     port, "tcp", volume, 10, names[src][1], names[dst][1], names[src][0], names[dst][0]))
    return pl.DataFrame(rows, orient="row", schema=[
        "ts_start", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "bytes", "packets", "src_name", "dst_name",
        "src_namespace", "dst_namespace"])


async def chunks_of(path: Path) -> AsyncIterator[bytes]:
    yield path.read_bytes()


async def settled(tenant_id: int) -> None:
    from models.db import session_scope
    from models.queries import jobs as q

    while True:
        async with session_scope() as s:
            counts = await q.count_job_runs_by_status(s, tenant_id=tenant_id)
        if counts["queued"] + counts["running"] + counts["retrying"] == 0:
            return
        await asyncio.sleep(0.05)


def print_detections(runs: list[Any], edges: int) -> None:
    """detect_incidents' own seconds per window (budget 2 s per 50k-flow window), phase by phase."""
    for run in [r for r in runs if r.name == "detect_incidents" and r.result and not r.result.get("note")]:
        took = (run.finished_at - run.started_at).total_seconds()
        result = run.result
        phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in result["seconds"].items())
        print(f"detect_incidents, window {result['window_start']} ({edges} flows, {result['windows']} window(s)): "
              f"{took:.2f} s as a job (budget 2 s); {phases}; {result['findings']} findings, "
              f"{result['incidents_new']} new / {result['incidents_updated']} updated incidents")


async def main(edges: int, windows: int) -> None:
    from tests.conftest import create_database, drop_database

    url = await create_database()
    folder = Path(tempfile.mkdtemp(prefix="sg-bench-chain-"))
    os.environ.update(SG_DATABASE_URL=url, SG_REDIS_URL=REDIS_URL, SG_ENV="test", SG_DATA_DIR=str(folder / "data"))
    from jobs.runtime.uploads import receive_upload
    from models import migrate
    from models.db import dispose_engines, session_scope
    from models.queries import jobs as q
    from models.queries import tenancy
    from tests.integration.conftest import running_worker

    try:
        await asyncio.to_thread(migrate.upgrade, url)
        async with session_scope() as s:
            tenant_id = (await tenancy.create_tenant(s, name="bench")).id or 0
        files = []
        plan = [(hour, 0.0, 0) for hour in range(windows - 1)] + [(windows - 1, 0.02, 20)]
        for hour, churn, spikes in plan:
            path = folder / f"window{hour}.csv"
            window_frame(edges, hour, churn, spikes).write_csv(path)
            files.append(path)
        async with running_worker():
            for path in files:
                started = time.perf_counter()
                await receive_upload(chunks_of(path), tenant_id=tenant_id, filename=path.name, fmt="csv",
                                     created_by="bench")
                await settled(tenant_id)
                print(f"{path.name}: upload → all jobs done {time.perf_counter() - started:.2f} s")
        async with session_scope() as s:
            runs = await q.list_job_runs(s, tenant_id=tenant_id, limit=100, sort="oldest")
            from models.queries import drift as drift_queries
            events = await drift_queries.list_events(s, tenant_id=tenant_id, limit=1)
        for run in runs:
            took = (run.finished_at - run.started_at).total_seconds() if run.finished_at and run.started_at else None
            detail = {k: v for k, v in (run.result or {}).items()
                      if k in ("snapshot_id", "edges", "new", "total", "incidents_new", "seconds")}
            print(f"  {run.name:<18} {run.status:<10} {took:6.2f} s  {detail}" if took is not None else run.name)
        print_detections(runs, edges)
        chain = [r for r in runs if r.name == "detect_drift"][-1]
        phases = chain.result["seconds"]
        to_publish = sum(phases[p] for p in ("load", "analyze", "persist", "publish"))
        assert events, "the second window must produce drift events"
        print(f"drift chain for window {windows} ({edges} edges, baseline of {windows - 1}), load → publish incl. "
              f"the fold into incidents (persist + fold {phases['persist']:.2f} s): {to_publish:.2f} s (budget 2 s); "
              f"then baseline slide + store {phases['baseline']:.2f} s")
    finally:
        from jobs.runtime.connections import close_connections

        await close_connections()
        await dispose_engines()
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edges", type=int, default=50_000)
    parser.add_argument("--windows", type=int, default=2, help="windows uploaded; the last one is measured")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.edges, arguments.windows))
