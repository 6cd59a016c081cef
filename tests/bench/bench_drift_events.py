"""Issue 4 benchmark: the Drift events page and the Overview on 100,000 stored events.

    .venv/bin/python tests/bench/bench_drift_events.py [--events 100000] [--windows 168]

A fresh PostgreSQL database holds one tenant with `--windows` hourly snapshots and `--events` events
spread over them (kinds, severities, statuses and risks drawn like a busy estate's), written the way
the drift job writes them (`drift_store.replace_snapshot_events`, COPY), plus a second tenant with
as many events, so every query must use its tenant filter. Each query runs through the same
functions the page and the REST API call; best of 5, milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

START = datetime(2026, 11, 1, tzinfo=UTC)
KINDS = ("new_edge", "removed_edge", "new_port", "new_external", "new_node", "traffic_spike", "beacon")
SEVERITIES = (("info", 30), ("low", 35), ("medium", 20), ("high", 12), ("critical", 3))
STATUSES = (("open", 70), ("acknowledged", 10), ("resolved", 10), ("false_positive", 5), ("suppressed", 5))


def fake_events(count: int, seed: int) -> list[dict[str, Any]]:
    """Engine-shaped events (`DriftEventRecord.to_dict()`), unique signatures."""
    rng = random.Random(seed)
    severities, severity_weights = zip(*SEVERITIES, strict=True)
    statuses, status_weights = zip(*STATUSES, strict=True)
    events = []
    for i in range(count):
        kind = rng.choice(KINDS)
        src, dst = f"ns{rng.randrange(40)}/svc{rng.randrange(5000)}", f"ns{rng.randrange(40)}/svc{rng.randrange(5000)}"
        port = rng.choice((22, 80, 443, 5432, 6379, 8080))
        severity = rng.choices(severities, severity_weights)[0]
        reasons = [{"feature": "kind", "value": 1.0, "weight": 20.0, "contribution": 20.0, "evidence": kind}]
        events.append({
            "kind": kind, "src": src, "dst": dst, "dst_port": port, "protocol": "tcp",
            "risk": rng.randrange(101), "severity": severity, "reasons": reasons,
            "explanation": f"{kind.replace('_', ' ')} {src} → {dst}:{port}/tcp (#{i})", "evidence": {"bytes": i},
            "status": rng.choices(statuses, status_weights)[0],
            "signature": f"{kind}|{src}|{dst}|{port}|tcp|{i}",
        })
    return events


async def seed(tenant_id: int, events: int, windows: int, seed_value: int) -> None:
    from models.db import session_scope
    from models.queries import drift_store
    from models.queries import graph as graph_queries

    per_window = events // windows
    pool = fake_events(events, seed_value)
    for w in range(windows):
        start = START + timedelta(hours=w)
        async with session_scope() as session:
            snapshot = await graph_queries.replace_snapshot(
                session, tenant_id=tenant_id, window_start=start, window_end=start + timedelta(hours=1),
                source="bench", nodes=[], edges=[],
            )
            chunk = pool[w * per_window : (w + 1) * per_window if w < windows - 1 else len(pool)]
            await drift_store.replace_snapshot_events(
                session, tenant_id=tenant_id, snapshot_id=snapshot.id or 0, window_start=start, events=chunk
            )


async def best_ms(run: Callable[[], Awaitable[Any]], repeats: int = 5) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = await run()
        best = min(best, time.perf_counter() - started)
    return best * 1000, result


async def bulk(tenant_id: int) -> None:
    """Issue 21: a bulk change of every event matching a filter (count, then change + one audit row each), once:
    it changes the data."""
    from models.db import session_scope
    from models.queries import drift as drift_queries

    started = time.perf_counter()
    async with session_scope() as s:
        count, upto = await drift_queries.count_matching(s, tenant_id=tenant_id, severity="low", status="open")
    counted = time.perf_counter() - started
    started = time.perf_counter()
    async with session_scope() as s:
        changed = await drift_queries.set_status_matching(s, tenant_id=tenant_id, new_status="acknowledged",
                                                          actor="bench", upto_id=upto, severity="low", status="open")
    print(f"| bulk by filter (severity low, open): count | {counted * 1000:.0f} ms | {count:,} |")
    print(f"| bulk by filter: change + audit each, one transaction | {(time.perf_counter() - started) * 1000:.0f} ms "
          f"| {changed:,} changed |")


async def main(events: int, windows: int) -> None:
    from tests.conftest import create_database, drop_database

    url = await create_database()
    os.environ.update(SG_DATABASE_URL=url, SG_ENV="test")
    from models import migrate
    from models.db import dispose_engines, get_engine, session_scope
    from models.queries import drift as drift_queries
    from models.queries import drift_stats, tenancy

    try:
        await asyncio.to_thread(migrate.upgrade, url)
        async with session_scope() as s:
            alpha = (await tenancy.create_tenant(s, name="alpha")).id or 0
            bravo = (await tenancy.create_tenant(s, name="bravo")).id or 0
        started = time.perf_counter()
        await seed(alpha, events, windows, 1)
        await seed(bravo, events, windows, 2)
        print(f"seeded 2 × {events:,} events over {windows} windows in {time.perf_counter() - started:.1f} s")
        async with get_engine().connect() as conn:
            await conn.exec_driver_sql("ANALYZE drift_event")
            await conn.commit()

        def page(**filters: Any) -> Callable[[], Awaitable[Any]]:
            async def run() -> Any:
                async with session_scope() as s:
                    return await drift_queries.list_events(s, tenant_id=alpha, limit=50, **filters)
            return run

        async def overview() -> Any:
            async with session_scope() as s:
                kpis = await drift_stats.drift_kpis(s, tenant_id=alpha)
                recent = await drift_queries.list_events(s, tenant_id=alpha, sort="created_at", limit=500)
                top = await drift_queries.list_events(s, tenant_id=alpha, status="open", limit=10)
                timeline = await drift_stats.drift_timeline(s, tenant_id=alpha)
            return kpis, recent, top, timeline

        since = START + timedelta(hours=windows // 2)
        cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("first page (no filter, by risk)", page()),
            ("filtered: severity high + status open + kind new_port + risk ≥ 50",
             page(severity="high", status="open", kind="new_port", min_risk=50)),
            ("filtered: last half of the windows, by time", page(since=since, sort="created_at")),
            ("filtered: last half of the windows, by window (the Window column)",
             page(since=since, sort="window_start")),
            ("filtered + page 20 (offset 950)", page(status="open", min_risk=30, offset=950)),
            ("text search 'svc42'", page(text="svc42")),
            ("Overview load (KPIs, 500 timeline points, top 10, timeline per window)", overview),
        ]
        print(f"| query ({events:,} events of this tenant, {events:,} of another) | best of 5 | rows / total |")
        print("|---|---:|---:|")
        for name, run in cases:
            ms, result = await best_ms(run)
            shape = f"{len(result[0])} / {result[1]:,}" if isinstance(result, tuple) and len(result) == 2 else "–"
            print(f"| {name} | {ms:.0f} ms | {shape} |")
        await bulk(alpha)
    finally:
        await dispose_engines()
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--windows", type=int, default=168)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.windows))
