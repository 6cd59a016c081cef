"""Issue 20's load figure: live fan-out over 2 web backends behind HAProxy, tab state in Redis.

    .venv/bin/python tests/bench/bench_live_replicas.py [--tenants 10] [--pages-per-tenant 20] [--events 200]
        [--ports 19100]

One frontend build (`reflex export --frontend-only` into a REFLEX_WEB_WORKDIR of its own), two backends
(`python -m dashboard.serve`) and HAProxy with deploy/haproxy.cfg, as tests/e2e/test_replicas.py starts them;
the sessions are real signed-in Chromium tabs (bench_live.bench_fan_out), spread over the backends by the
balancer. `--ports P` uses P (balancer), P+1 and P+2 (backends). Redis: SG_E2E_REDIS_URL (flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import redis
from playwright.async_api import async_playwright

from models import migrate
from tests.apprunner import E2E_REDIS_URL, LiveApp, seed_tenants
from tests.bench.bench_live import BENCH_ARGS, bench_fan_out
from tests.conftest import create_database, drop_database
from tests.e2e.replica_support import (
    build_frontend,
    cluster_env,
    start_backend,
    start_balancer,
    stop,
    wait_answering,
)


@contextlib.contextmanager
def running_replicas(logs: Path, tenants: list[str], base_port: int) -> Iterator[LiveApp]:
    """PostgreSQL with `tenants` (an admin each), one frontend build, two backends and HAProxy."""
    db_url = asyncio.run(create_database())
    migrate.upgrade(db_url)
    redis.Redis.from_url(E2E_REDIS_URL).flushdb()
    ports = {"web1": base_port + 1, "web2": base_port + 2}
    env = cluster_env(db_url=db_url, redis_url=E2E_REDIS_URL, lb_port=base_port, web_ports=ports, logs=logs)
    procs = []
    try:
        # Pub/sub channels are server-wide, not per Redis database: tenant ids from the port (a range of the
        # machine's own) keep other apps' events out of these tabs, and these events out of theirs.
        psql = ["psql", "-Atq", db_url.replace("+asyncpg", "")]
        subprocess.run([*psql, "-c", f"alter sequence tenant_id_seq restart with {base_port * 100}"], check=True)
        seed_tenants(env, tenants, roles=("admin",))
        print(f"frontend built in {build_frontend(env, logs):.0f} s", file=sys.stderr)
        for name, port in ports.items():
            procs.append(start_backend(name, port, env, logs))
        for (name, port), proc in zip(ports.items(), procs, strict=True):
            wait_answering(f"http://127.0.0.1:{port}", proc, logs / f"{name}.log")
        procs.append(start_balancer(env, logs))
        wait_answering(f"http://127.0.0.1:{base_port}", procs[-1], logs / "haproxy.log")
        yield LiveApp(f"http://localhost:{base_port}", env, logs, db_url)
    finally:
        for proc in procs:
            stop(proc)
        asyncio.run(drop_database(db_url))


async def measure(args: argparse.Namespace, app: LiveApp) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=shutil.which("chromium"), args=BENCH_ARGS)
        fan = await bench_fan_out(browser, app, args.tenants, args.pages_per_tenant, args.events)
        await browser.close()
    print(f"| publish → session state updated, 2 backends ({fan['sessions']:.0f} tabs, {args.tenants} tenants, "
          f"{args.events} events) | median {fan['server_p50']:.0f} ms | p95 {fan['server_p95']:.0f} ms "
          f"| max {fan['server_max']:.0f} ms |")
    print(f"| publish → shown in the page's DOM (same run) | median {fan['p50']:.0f} ms | p95 {fan['p95']:.0f} ms "
          f"| max {fan['max']:.0f} ms |")
    print(f"| fan-out correctness | {fan['observed']:.0f} deliveries timed | wrong-tenant deliveries: "
          f"{fan['wrong_tenant']:.0f} | sessions missing events: {fan['incomplete_sessions']:.0f} |")


def on_replicas(args: argparse.Namespace, measure: Callable[[argparse.Namespace, LiveApp], Coroutine[Any, Any, None]]) -> None:
    """Run `measure` against the replicas of `args.tenants` tenants, this process pointed at their database."""
    names = [f"t{t}" for t in range(args.tenants)]
    with tempfile.TemporaryDirectory() as tmp, running_replicas(Path(tmp), names, args.ports) as app:
        os.environ.update({"SG_DATABASE_URL": app.env["SG_DATABASE_URL"], "SG_REDIS_URL": app.env["SG_REDIS_URL"]})
        asyncio.run(measure(args, app))


def main(args: argparse.Namespace) -> None:
    on_replicas(args, measure)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--pages-per-tenant", type=int, default=20)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--ports", type=int, default=19100, help="balancer port; the backends take the next two")
    main(parser.parse_args())
