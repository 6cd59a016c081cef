"""Issue 3 benchmarks through the whole product: `sg ingest --wait` to a built snapshot on PostgreSQL,
against a bare polars read + group-by of the same file; and 100,000 edges persisted.

    .venv/bin/python tests/bench/bench_pipeline.py [--rows 1000000] [--edges 100000]

Uses a fresh PostgreSQL database, the test Redis ($SG_TEST_REDIS_URL, else db 11) and a real `arq` worker
process. Edges are persisted both ways: `replace_snapshot` (dict rows, COPY records) and
`replace_snapshot_frames` (polars columns, COPY CSV; what `build_snapshot` uses).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_ingest import _bare_polars, flows, write_files
from tests.conftest import ROOT, create_database, drop_database

REDIS_URL = os.environ.get("SG_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


async def job_seconds(url: str) -> dict[str, float]:
    """Run time of each job name (started → finished), summed."""
    from models.db import dispose_engines, session_scope
    from models.queries import jobs as job_queries
    from models.queries import tenancy

    totals: dict[str, float] = {}
    async with session_scope(url) as session:
        tenant = await tenancy.get_tenant_by_name(session, name="bench")
        for run in await job_queries.list_job_runs(session, tenant_id=tenant.id or 0, limit=500):
            if run.started_at and run.finished_at:
                totals[run.name] = totals.get(run.name, 0) + (run.finished_at - run.started_at).total_seconds()
    await dispose_engines()
    return totals


async def snapshot_counts(url: str) -> list[tuple[int, int]]:
    """(nodes, edges) of every ready snapshot: proof that the timed run really built its window."""
    from models.db import dispose_engines, session_scope
    from models.queries import graph as graph_queries
    from models.queries import tenancy

    async with session_scope(url) as session:
        tenant = await tenancy.get_tenant_by_name(session, name="bench")
        rows = await graph_queries.list_snapshots(session, tenant_id=tenant.id or 0)
    await dispose_engines()
    return [(row.node_count, row.edge_count) for row in rows]


async def persist_edges(url: str, count: int) -> tuple[float, float]:
    """Seconds to replace a snapshot with `count` edges in one transaction: dict rows, then frames."""
    import polars as pl

    from models.db import dispose_engines, session_scope
    from models.queries import graph as graph_queries
    from models.queries import tenancy

    async with session_scope(url) as session:
        tenant = await tenancy.create_tenant(session, name="edges")
    start_window = datetime(2024, 4, 19, tzinfo=UTC)
    nodes = [{"key": f"10.0.{i // 250}.{i % 250}", "name": f"n{i}", "kind": "ip", "namespace": None, "labels": {}}
             for i in range(2000)]
    edges = [{"src": nodes[i % 2000]["key"], "dst": nodes[(i * 7 + 1) % 2000]["key"], "dst_port": i % 65535,
              "protocol": "tcp", "bytes": i, "packets": 1, "flows": 1, "rejected": 0, "first_seen": start_window,
              "last_seen": start_window} for i in range(count)]
    node_frame = pl.DataFrame([{**n, "labels": "{}"} for n in nodes])
    edge_frame = pl.DataFrame(edges)
    timings = []
    for index, (node_rows, edge_rows) in enumerate(((nodes, edges), (node_frame, edge_frame))):
        window = start_window + timedelta(hours=index)
        began = time.perf_counter()
        async with session_scope(url) as session:
            replace = graph_queries.replace_snapshot if index == 0 else graph_queries.replace_snapshot_frames
            await replace(session, tenant_id=tenant.id or 0, window_start=window,  # type: ignore[operator]
                          window_end=window + timedelta(hours=1), source="bench", nodes=node_rows, edges=edge_rows)
        timings.append(time.perf_counter() - began)
    await dispose_engines()
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=100_000)
    args = parser.parse_args()
    import redis

    # The bench's own Redis database: jobs left queued by an earlier run (drift detection) must not run here.
    redis.Redis.from_url(REDIS_URL).flushdb()
    url = asyncio.run(create_database())
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SG_DATABASE_URL": url, "SG_REDIS_URL": REDIS_URL, "SG_DATA_DIR": f"{tmp}/data"}
        try:
            subprocess.run([str(ROOT / ".venv/bin/sg"), "db", "upgrade"], env=env, check=True, capture_output=True)
            subprocess.run([str(ROOT / ".venv/bin/sg"), "tenant", "create", "bench"], env=env, check=True,
                           capture_output=True)
            csv = write_files(flows(args.rows, edges=50_000, hours=1), Path(tmp), ["csv"])["csv"]
            bare = min(_bare_polars("csv", csv)["seconds"] for _ in range(3))
            worker = subprocess.Popen([str(ROOT / ".venv/bin/arq"), "jobs.worker.WorkerSettings"], env=env, cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(2)
            try:
                whole = timed([str(ROOT / ".venv/bin/sg"), "ingest", str(csv), "--tenant", "bench", "--wait"], env)
            finally:
                worker.terminate()
                worker.wait()
            jobs = asyncio.run(job_seconds(url))
            built = asyncio.run(snapshot_counts(url))
            size_mb = csv.stat().st_size / 1e6
            edges_s = asyncio.run(persist_edges(url, args.edges))
        finally:
            asyncio.run(drop_database(url))
    print(f"| `sg ingest --wait` {args.rows:,}-flow CSV ({size_mb:.0f} MB) → snapshot on PostgreSQL | {whole:.2f} s "
          f"| bare polars read + group-by {bare:.2f} s | ratio {whole / bare:.2f}× |")
    print(f"| snapshots built (nodes, edges) | {built} |")
    print("| inside it | " + ", ".join(f"{name} {secs:.2f} s" for name, secs in sorted(jobs.items())) + " |")
    print(f"| {args.edges:,} edges persisted, one transaction: dict rows (COPY records) {edges_s[0]:.2f} s, "
          f"frames (COPY CSV) {edges_s[1]:.2f} s |")


if __name__ == "__main__":
    main()
