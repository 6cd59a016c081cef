"""Issue 18 benchmark: incident created → SIEM line received, through the real path.

    SG_BENCH_REDIS_URL=redis://127.0.0.1:6379/N .venv/bin/python tests/bench/bench_notify.py [--incidents 40]

A fresh PostgreSQL database (migrated), a syslog integration (TCP, CEF) pointing at a local asyncio receiver
allowed by SG_NOTIFY_ALLOWED_HOSTS, and a real ARQ worker running the `drain_notifications` cron (every 2 s) on
Redis. Incidents are upserted one by one as the detection fold does (a new one every `--gap` seconds); the
receiver reads each line's incident id (cs1) and arrival time. Prints p50/p95/max latency and a Markdown row.
Goal (issue 18): p95 ≤ 5 s on this machine with a healthy receiver.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

REDIS = os.environ.get("SG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


async def run(incidents: int, gap: float) -> list[float]:
    import pycef
    from arq.connections import RedisSettings
    from arq.cron import cron
    from arq.worker import Worker

    from jobs import worker as worker_settings
    from jobs.tasks.notify import drain_notifications
    from models import migrate
    from models.db import dispose_engines, session_scope
    from models.incidents import IncidentRow
    from models.queries import incidents as incident_queries
    from models.queries import notifications as q
    from models.queries import tenancy
    from models.settings import get_settings
    from tests.conftest import create_database, drop_database
    from tests.integration.notify_receivers import syslog_receiver

    url = await create_database()
    os.environ.update(SG_DATABASE_URL=url, SG_REDIS_URL=REDIS, SG_ENV="test", SG_NOTIFY_ALLOWED_HOSTS="127.0.0.1")
    get_settings.cache_clear()
    await asyncio.to_thread(migrate.upgrade, url)
    created: dict[int, float] = {}
    try:
        async with syslog_receiver() as receiver:
            async with session_scope() as session:
                tenant = await tenancy.create_tenant(session, name="bench")
                await q.create_integration(
                    session,
                    tenant_id=tenant.id or 0,
                    actor="bench",
                    kind="syslog",
                    name="siem",
                    min_severity="info",
                    config={"host": "127.0.0.1", "port": receiver.port},
                )
            worker = Worker(
                functions=[],
                cron_jobs=[
                    cron(
                        drain_notifications,
                        name="drain_notifications",
                        second=set(range(0, 60, 2)),
                        unique=True,
                        timeout=300,
                    )
                ],
                redis_settings=RedisSettings.from_dsn(REDIS),
                on_startup=worker_settings.startup,
                on_shutdown=worker_settings.shutdown,
                poll_delay=0.05,
                keep_result=0,
                handle_signals=False,
            )
            task = asyncio.create_task(worker.async_run())
            t0 = datetime.now(UTC)
            for i in range(incidents):
                row = IncidentRow(
                    key=f"scan|inbound|10.9.{i}.0/24|",
                    kind="scan",
                    direction="inbound",
                    entity=f"10.9.{i}.0/24",
                    service="",
                    first_seen=t0,
                    first_reported=t0,
                    last_seen=t0 + timedelta(seconds=1),
                    peak_risk=60,
                    severity="high",
                    score=60.0,
                    rank_note="",
                    events=10,
                    attempts=10,
                    answered=0,
                    summary=f"bench scan {i}",
                )
                async with session_scope() as session:
                    ids = await incident_queries.upsert_incidents(session, tenant_id=tenant.id or 0, rows=[row])
                created[next(iter(ids.values()))] = time.monotonic()
                await asyncio.sleep(gap)
            for _ in range(600):  # up to 30 s for the last lines
                if len(receiver.lines) >= incidents:
                    break
                await asyncio.sleep(0.05)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await worker.close()
            arrived = {
                int(pycef.parse(line)["incidentId"]): at
                for line, at in zip(receiver.lines, receiver.arrived, strict=True)
            }
    finally:
        await dispose_engines()
        await drop_database(url)
    missing = sorted(set(created) - set(arrived))
    if missing:
        raise SystemExit(f"{len(missing)} incidents never reached the receiver: {missing[:10]}")
    return [arrived[i] - created[i] for i in created]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between new incidents")
    args = parser.parse_args()
    latencies = sorted(asyncio.run(run(args.incidents, args.gap)))
    p50, p95 = statistics.median(latencies), latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(f"{len(latencies)} incidents: p50 {p50:.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s")
    print(
        f"| Notifications: incident upserted → CEF line at a local syslog receiver (TCP), real worker cron every "
        f"2 s, {len(latencies)} incidents | p95 ≤ 5 s | p50 {p50:.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s "
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | `python tests/bench/bench_notify.py` |"
    )


if __name__ == "__main__":
    main()
