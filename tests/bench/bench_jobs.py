"""Issue 7 benchmarks: the Jobs page's queries with 100,000 stored runs, and a no-op job through one worker.

    SG_BENCH_REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python tests/bench/bench_jobs.py [--runs 100000] [--jobs 300]

First view = what the page's loads run (page of runs, total, counts, names, 1 h/24 h/7 d metrics with
percentiles); filtered page = a status + name filter with its total. Fresh PostgreSQL database;
throughput and enqueue→start latency use an in-process ARQ worker running `ping` (tracked, no work).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

REDIS_URL = os.environ.get("SG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
# The in-process worker of the integration fixtures reads this: it must serve the queue we enqueue on.
os.environ["SG_TEST_REDIS_URL"] = REDIS_URL
NAMES = ("build_snapshot", "detect_drift", "ingest_flows", "refresh_baselines", "ping")


async def seed_runs(tenant_id: int, count: int) -> None:
    """`count` finished runs over the last 7 days, via COPY."""
    from models.db import get_engine
    from models.types import utcnow

    now, rng = utcnow(), random.Random(7)
    rows = []
    for i in range(count):
        enqueued = now - timedelta(seconds=rng.uniform(0, 7 * 86400))
        started = enqueued + timedelta(milliseconds=rng.uniform(5, 50))
        status = rng.choices(("succeeded", "failed", "cancelled"), (90, 8, 2))[0]
        rows.append((tenant_id, f"bench:{i}", rng.choice(NAMES), status, "schedule", "{}", 1.0, "", 1, "[]", "",
                     "{}", enqueued, started, started + timedelta(seconds=rng.uniform(0.01, 30)), ""))
    async with get_engine().connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            "job_run", records=rows, columns=[
                "tenant_id", "arq_job_id", "name", "status", "triggered_by", "params", "progress", "progress_message",
                "attempts", "attempt_errors", "error", "result", "enqueued_at", "started_at", "finished_at",
                "worker_id"])
        await conn.commit()
        await conn.exec_driver_sql("ANALYZE job_run")


async def timed(fn: object, repeats: int = 5) -> float:
    """Best-of-`repeats` wall time in ms of an async callable."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        await fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best * 1000


async def page_queries(tenant_id: int) -> tuple[float, float]:
    from models.db import session_scope
    from models.queries import job_metrics
    from models.queries import jobs as q
    from models.types import utcnow

    async def first_view() -> None:
        async with session_scope() as s:
            where = q.RunFilter()
            await q.count_job_runs(s, tenant_id=tenant_id, where=where)
            await q.list_job_runs(s, tenant_id=tenant_id, where=where, limit=20)
            await q.count_job_runs_by_status(s, tenant_id=tenant_id)
            await job_metrics.job_names(s, tenant_id=tenant_id)
            await job_metrics.run_metrics(s, tenant_id=tenant_id, now=utcnow())

    async def filtered() -> None:
        async with session_scope() as s:
            where = q.RunFilter(status="failed", name="detect_drift")
            await q.count_job_runs(s, tenant_id=tenant_id, where=where)
            await q.list_job_runs(s, tenant_id=tenant_id, where=where, limit=20, offset=20)

    return await timed(first_view), await timed(filtered)


async def throughput(tenant_id: int, jobs: int) -> tuple[float, float, float]:
    from jobs.runtime.queue import enqueue_job
    from models.db import session_scope
    from models.queries import jobs as q
    from tests.integration.conftest import running_worker

    async with running_worker():
        await asyncio.sleep(0.3)
        start = time.perf_counter()
        runs = [await enqueue_job("ping", tenant_id=tenant_id, triggered_by="bench") for _ in range(jobs)]
        while True:
            async with session_scope() as s:
                if (await q.count_job_runs(s, tenant_id=tenant_id, where=q.RunFilter(status="succeeded"))) >= jobs:
                    break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - start
    async with session_scope() as s:
        done = [await q.get_job_run(s, tenant_id=tenant_id, job_run_id=r.id or 0) for r in runs]
    waits = sorted((r.started_at - r.enqueued_at).total_seconds() * 1000 for r in done if r.started_at)
    return jobs / elapsed, statistics.median(waits), waits[int(len(waits) * 0.95) - 1]


async def main(runs: int, jobs: int) -> None:
    from tests.conftest import create_database, drop_database

    url = await create_database()
    os.environ.update(SG_DATABASE_URL=url, SG_REDIS_URL=REDIS_URL, SG_ENV="test")
    from models import migrate
    from models.db import dispose_engines, session_scope
    from models.queries import tenancy

    try:
        await asyncio.to_thread(migrate.upgrade, url)
        async with session_scope() as s:
            big = (await tenancy.create_tenant(s, name="bench")).id or 0
            small = (await tenancy.create_tenant(s, name="throughput")).id or 0
        await seed_runs(big, runs)
        first, filtered = await page_queries(big)
        print(f"{runs} runs stored: Jobs page first view {first:.0f} ms (budget 1000), filtered page "
              f"{filtered:.0f} ms (budget 300)")
        rate, p50, p95 = await throughput(small, jobs)
        print(f"no-op job through one worker: {rate:.0f} jobs/s; enqueue→start p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    finally:
        from jobs.runtime.connections import close_connections

        await close_connections()
        await dispose_engines()
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.jobs))
