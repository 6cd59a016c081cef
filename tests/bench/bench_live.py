"""Issue 2 benchmarks: enqueue → job shown as succeeded in an open page, and live fan-out.

    .venv/bin/python tests/bench/bench_live.py [--jobs 50] [--tenants 5] [--pages-per-tenant 10] [--events 200]
        [--port N]

Starts the real app (Reflex prod + ARQ worker, PostgreSQL, Redis), drives real Chromium pages, and
prints Markdown rows for docs/benchmarks.md. Times are taken in the page (MutationObserver +
Date.now()) against the publisher's wall clock on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.apprunner import CHROMIUM_ARGS, PASSWORD, LiveApp, running_app

# 50 tabs on one screen: stop Chromium from throttling the ones it considers in the background.
BENCH_ARGS = [*CHROMIUM_ARGS, "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
              "--disable-backgrounding-occluded-windows"]
OBSERVE_JOBS = """() => { window.__done = {}; new MutationObserver(() => {
  for (const el of document.querySelectorAll('tr[id^="job-"]')) {
    const id = el.id.slice(4), s = el.querySelector('.job-status');
    if (s && s.textContent.trim() === 'succeeded' && !(id in window.__done)) window.__done[id] = Date.now();
  } }).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
OBSERVE_LIVE = """() => { window.__seen = []; const el = document.getElementById('live-count');
  new MutationObserver(() => window.__seen.push([el.getAttribute('data-last-event'), Date.now()]))
    .observe(el, {attributes: true, attributeFilter: ['data-last-event']}); }"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def signed_in(browser: Browser, app: LiveApp, email: str) -> tuple[BrowserContext, Page]:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{app.base_url}/login?next=/jobs")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#sign-in")
    await page.wait_for_selector("#jobs-table, #jobs-empty", timeout=30_000)
    return context, page


async def tenant_id(name: str) -> int:
    from models.db import session_scope
    from models.queries.tenancy import get_tenant_by_name

    async with session_scope() as session:
        return (await get_tenant_by_name(session, name=name)).id or 0


async def bench_enqueue_to_page(browser: Browser, app: LiveApp, jobs: int) -> list[float]:
    from jobs.runtime.queue import enqueue_job

    _, page = await signed_in(browser, app, "admin@t0.test")
    await page.evaluate(OBSERVE_JOBS)
    tid = await tenant_id("t0")
    latencies = []
    for i in range(jobs + 3):
        started = time.time() * 1000
        run = await enqueue_job("ping", tenant_id=tid, triggered_by="bench")
        await page.wait_for_function(f"() => '{run.id}' in window.__done", timeout=10_000)
        if i >= 3:  # the first runs warm the pools
            latencies.append(await page.evaluate(f"window.__done['{run.id}']") - started)
    return latencies


async def bench_fan_out(browser: Browser, app: LiveApp, tenants: int, per_tenant: int, events: int) -> dict[str, float]:
    from jobs.runtime.connections import get_redis
    from jobs.runtime.events import publish_event

    ids = {t: await tenant_id(f"t{t}") for t in range(tenants)}
    pages: list[tuple[int, Page]] = []
    for t in range(tenants):
        context, first = await signed_in(browser, app, f"admin@t{t}.test")
        pages.append((t, first))
        for _ in range(per_tenant - 1):
            page = await context.new_page()
            await page.goto(f"{app.base_url}/jobs")
            await page.wait_for_selector("#jobs-table, #jobs-empty", timeout=30_000)
            pages.append((t, page))
    before = [int((await p.locator("#live-count").inner_text()).split()[-1]) for _, p in pages]
    for _, page in pages:
        await page.evaluate(OBSERVE_LIVE)
    redis = get_redis()
    for i in range(events):
        await publish_event(redis, tenant_id=ids[i % tenants], kind="bench.event", data={"id": i})
        await asyncio.sleep(0.01)
    await asyncio.sleep(3)
    latencies, server, wrong, short = [], [], 0, 0
    expected = {t: {i for i in range(events) if i % tenants == t} for t in range(tenants)}
    for (t, page), base in zip(pages, before, strict=True):
        count = int((await page.locator("#live-count").inner_text()).split()[-1]) - base
        short += count != len(expected[t])
        for marker, seen in await page.evaluate("window.__seen"):
            kind, event_id, ts, delivered = marker.split("|")
            if kind != "bench.event":
                continue
            wrong += int(event_id) not in expected[t]
            latencies.append(seen - float(ts) * 1000)
            server.append(float(delivered))
    return {"sessions": len(pages), "observed": len(latencies), "wrong_tenant": wrong, "incomplete_sessions": short,
            "p50": statistics.median(latencies), "p95": pct(latencies, 0.95), "max": max(latencies),
            "server_p50": statistics.median(server), "server_p95": pct(server, 0.95), "server_max": max(server)}


def port_env(port: int | None) -> dict[str, str]:
    """The web port when the caller fixes one (a shared machine hands out port ranges), else a free one."""
    return {"SG_WEB_PORT": str(port)} if port else {}


def main(args: argparse.Namespace) -> None:
    names = [f"t{t}" for t in range(args.tenants)]
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp), names, extra_env=port_env(args.port)) as app:
        os.environ.update({"SG_DATABASE_URL": app.env["SG_DATABASE_URL"], "SG_REDIS_URL": app.env["SG_REDIS_URL"]})
        asyncio.run(measure(args, app))


async def measure(args: argparse.Namespace, app: LiveApp) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=shutil.which("chromium"), args=BENCH_ARGS)
        lat = await bench_enqueue_to_page(browser, app, args.jobs)
        print(f"| enqueue → succeeded shown in page ({len(lat)} ping jobs) | median {statistics.median(lat):.0f} ms "
              f"| p95 {pct(lat, 0.95):.0f} ms | max {max(lat):.0f} ms |")
        fan = await bench_fan_out(browser, app, args.tenants, args.pages_per_tenant, args.events)
        print(f"| publish → session state updated ({fan['sessions']:.0f} sessions, {args.tenants} tenants, "
              f"{args.events} events) | median {fan['server_p50']:.0f} ms | p95 {fan['server_p95']:.0f} ms "
              f"| max {fan['server_max']:.0f} ms |")
        print(f"| publish → shown in the page's DOM (same run) | median {fan['p50']:.0f} ms | p95 {fan['p95']:.0f} ms "
              f"| max {fan['max']:.0f} ms |")
        print(f"| fan-out correctness | {fan['observed']:.0f} deliveries timed | wrong-tenant deliveries: "
              f"{fan['wrong_tenant']:.0f} | sessions missing events: {fan['incomplete_sessions']:.0f} |")
        await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--tenants", type=int, default=5)
    parser.add_argument("--pages-per-tenant", type=int, default=10)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--port", type=int, default=None, help="the web port (default: a free one)")
    main(parser.parse_args())
