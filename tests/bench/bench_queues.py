"""Issue 20 item 2: a ping clicked while the demo seeds. Before the two queues it waited behind the seed's
ingestion backlog in ARQ's one queue (11 s in the issue); now it goes to `sg:interactive`.

    SG_BENCH_REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python tests/bench/bench_queues.py [--pings 10] \
        [--shape split|combined]

A fresh PostgreSQL database and data folder; `sg demo seed`'s work (the 82 real sample files of
/work/shared/data, one `ingest_flows` each, on `sg:bulk`) is queued before any worker runs. Then the workers
start as `./run demo` starts them (`--shape split`: one `arq jobs.worker.InteractiveWorker` and one
`nice -n 10 arq jobs.worker.BulkWorker` process; `--shape combined`: one `arq jobs.worker.WorkerSettings` process serving
both queues), and once the bulk worker is busy, pings are queued one a second: on `sg:interactive`, and for the
before figure one more on `sg:bulk` (where the backlog is, as in the one-queue design). Each ping's time is
enqueue → succeeded as its job_run records it. The Redis database given is flushed first: use a spare one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("SG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
# As `./run demo` starts them: the bulk worker at a lower CPU priority (nice 10), so parsing yields to pings.
SHAPES = {"split": [["arq", "jobs.worker.InteractiveWorker"], ["nice", "-n", "10", "arq", "jobs.worker.BulkWorker"]],
          "combined": [["arq", "jobs.worker.WorkerSettings"]]}


async def _ping_seconds(tenant_id: int, queue: str, within: float) -> float:
    from jobs.runtime.queue import enqueue_job
    from models.db import session_scope
    from models.queries import jobs as q

    run = await enqueue_job("ping", tenant_id=tenant_id, triggered_by="bench", queue=queue)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with session_scope() as s:
            done = await q.get_job_run(s, tenant_id=tenant_id, job_run_id=run.id or 0)
        if done.status == "succeeded" and done.finished_at is not None:
            return (done.finished_at - done.enqueued_at).total_seconds()
        await asyncio.sleep(0.02)
    return float("inf")


async def _running(tenant_id: int, name: str) -> int:
    from models.db import session_scope
    from models.queries import jobs as q

    async with session_scope() as s:
        return await q.count_job_runs(s, tenant_id=tenant_id, where=q.RunFilter(status="running", name=name))


async def main(pings: int, shape: str) -> None:
    from tests.conftest import create_database, drop_database

    url = await create_database()
    data = tempfile.mkdtemp(prefix="sg-bench-queues-")
    env = {**os.environ, "SG_DATABASE_URL": url, "SG_REDIS_URL": REDIS_URL, "SG_ENV": "test", "SG_DATA_DIR": data}
    os.environ.update(env)
    from jobs.demo.seed import seed_demo
    from jobs.runtime import monitor
    from jobs.runtime.connections import close_connections, get_redis
    from jobs.runtime.queues import BULK, INTERACTIVE
    from models import migrate
    from models.db import dispose_engines, session_scope
    from models.queries import tenancy
    from models.types import utcnow

    workers: list[asyncio.subprocess.Process] = []
    try:
        await get_redis().flushdb()
        await asyncio.to_thread(migrate.upgrade, url)
        _, said = await seed_demo()
        async with session_scope() as s:
            tenant_id = (await tenancy.get_tenant_by_name(s, name="demo")).id or 0
        depths = {q["queue"]: q["depth"] for q in await monitor.queue_depths(get_redis())}
        print(f"seed: {said}; queued: {depths}")
        env["PATH"] = f"{ROOT / '.venv/bin'}:{env['PATH']}"
        workers = [await asyncio.create_subprocess_exec(*command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                                        stderr=subprocess.DEVNULL) for command in SHAPES[shape]]
        # Both kinds of worker up (heartbeats) and the bulk one busy: the moment a user would click Run ping.
        for _ in range(6000):
            if (len(await monitor.live_workers(get_redis(), now=utcnow())) >= len(workers)
                    and await _running(tenant_id, "ingest_flows") > 0):
                break
            await asyncio.sleep(0.05)
        interactive = []
        for _ in range(pings):
            interactive.append(await _ping_seconds(tenant_id, INTERACTIVE, within=60))
            left = {q["queue"]: q["due"] for q in await monitor.queue_depths(get_redis())}
            print(f"  ping on sg:interactive: {interactive[-1]:.3f} s (due now: {left})")
            await asyncio.sleep(1)
        before = await _ping_seconds(tenant_id, BULK, within=900)
        print(f"shape {shape}: ping while the demo seeds, enqueue → succeeded: sg:interactive median "
              f"{statistics.median(interactive):.3f} s, max {max(interactive):.3f} s over {pings}; the same ping on "
              f"sg:bulk, behind the backlog (the one-queue design): {before:.1f} s")
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
        await close_connections()
        await dispose_engines()
        await drop_database(url)
        await asyncio.to_thread(shutil.rmtree, data, True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pings", type=int, default=10)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="split")
    args = parser.parse_args()
    asyncio.run(main(args.pings, args.shape))
