"""Incidents on the Overview and the Drift page, in Chromium (issue 17, docs/detection.md "Pages").

The incidents come from findings stored and folded the way `detect_incidents` does it (`finding_event` →
`replace_snapshot_events(origin='detect')` → `fold_findings` → `announce`), one fold per hourly window, for a
tenant of its own. Only the detection from flows is replaced by the findings below, so the ranks, summaries,
counts and the live `incident.changed` are the product's.

Why not uploads: a verdict moves incidents first seen *after* it (`ranking._score`), and a replayed capture's
flows are years older than any verdict given today, so a false positive could never lower a replayed incident.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from jobs.engines.detect.records import Finding
from jobs.tasks.detect import finding_event
from jobs.tasks.incidents import announce, fold_findings
from models.db import get_engine, session_scope
from models.queries import drift_store, tenancy
from models.queries import graph as graph_queries
from models.queries import incidents as incident_queries
from tests.apprunner import LiveApp, seed_tenants, sg
from tests.conftest import SHARED_DATA
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
TENANT = "echo"
HOUR = 3600.0
HOME = "10.20.0.0/24"
RITA_HOURS = sorted((SHARED_DATA / "zeek/rita-missing-host/2024-04-19").glob("*.log.gz"))[:4]
SENSOR = "64.225.56.201"  # the RITA capture's sensor: its home (docs/detection.md, step 3)
C2 = "203.0.113.7"  # the beacon's destination; its /24 is the "shape" a verdict carries to similar beacons


@dataclass(frozen=True)
class Echo:
    tenant_id: int
    top_id: int  # the beacon ranked first


def _beacon(src: str, dst: str, start: float, end: float, risk: float, port: int = 443) -> Finding:
    label = f"{port}/tcp"
    connections = int((end - start) // 60)
    facts = {"period_s": 60.0, "jitter": 0.02, "ts_score": 0.97, "size_score": 0.91, "histogram": 0.88,
             "duration": 0.93, "score": 0.94, "hours_seen": 6, "hours_total": 6, "size_mode": 1184,
             "size_mode_share": 0.92, "connections": connections, "infrastructure": False, "habitual": False}
    return Finding(kind="beacon", direction="outbound", actor=src, target=dst, service=label, first_ts=start,
                   last_ts=end, attempts=connections, answered=connections, risk=risk, sources=frozenset({src}),
                   hosts=frozenset({dst}), ports=frozenset({label}),
                   explanation=f"{src} → {dst}:{label} every 60 s ± 1.2 s (timestamps 0.97), 1.2 KB in 92 % of "
                               f"connections: outbound beacon", facts=facts)


def _scan(start: float, risk: float) -> Finding:
    sources = frozenset(f"198.51.100.{i}" for i in range(1, 41))
    ports = ("23/tcp", "22/tcp", "3389/tcp", "445/tcp")
    top = [{"actor": "198.51.100.0/24", "attempts": 1800, "ports": 4, "hosts": 60}]
    return Finding(kind="scan", direction="inbound", actor="*", target=HOME, service="", first_ts=start,
                   last_ts=start + HOUR - 60, attempts=1800, answered=0, risk=risk, sources=sources,
                   hosts=frozenset(f"10.20.0.{i}" for i in range(1, 61)), ports=frozenset(ports),
                   facts={"home_net": HOME, "top_actors": top, "scanners": ["198.51.100.0/24"],
                          "answered_ports": [], "ports_by_count": list(ports)})


def _brute(start: float, risk: float) -> Finding:
    return Finding(kind="brute_force", direction="inbound", actor="*", target=HOME, service="22/tcp",
                   first_ts=start, last_ts=start + 1800, attempts=420, answered=420, risk=risk,
                   sources=frozenset({"192.0.2.10", "192.0.2.11"}), hosts=frozenset({"10.20.0.4"}),
                   ports=frozenset({"22/tcp"}),
                   facts={"home_net": HOME, "service": "22/tcp", "ports_by_count": ["22/tcp"],
                          "top_actors": [{"actor": "192.0.2.10", "attempts": 400}]})


@contextlib.asynccontextmanager
async def _session(app: LiveApp) -> AsyncIterator[AsyncSession]:
    """A session on the app's database; the engine's connections are closed after it (the tests' event loops
    come and go, and a pooled asyncpg connection belongs to the loop that opened it)."""
    try:
        async with session_scope(app.database_url) as session:
            yield session
    finally:
        await get_engine(app.database_url).dispose()


async def _fold(app: LiveApp, tenant_id: int, window: datetime, findings: list[Finding]) -> list[int]:
    """One window's findings stored and folded as `detect_incidents` does, then announced; the touched ids."""
    async with _session(app) as session:
        snapshot = await graph_queries.replace_snapshot(
            session, tenant_id=tenant_id, window_start=window, window_end=window + timedelta(hours=1),
            source="e2e", nodes=[], edges=[])
        events = [finding_event(f) for f in findings]
        by_signature = {e["signature"]: f for e, f in zip(events, findings, strict=True)}
        changes = await drift_store.replace_snapshot_events(
            session, tenant_id=tenant_id, snapshot_id=snapshot.id or 0, window_start=window, events=events,
            origin="detect")
        folded = await fold_findings(session, tenant_id=tenant_id,
                                     findings=[(int(e["id"]), by_signature[e["signature"]]) for e in changes.inserted])
    redis = Redis.from_url(app.env["SG_REDIS_URL"])
    try:
        await announce(redis, tenant_id=tenant_id, folded=folded, origin="detect", snapshot_id=snapshot.id or 0)
    finally:
        await redis.aclose()
    return list(folded.ids)


@pytest.fixture(scope="module")
def echo(live_app: LiveApp) -> Iterator[Echo]:
    """Tenant echo with six hours of findings: a critical beacon every hour, an inbound scan for three hours,
    an ssh brute force, a medium beacon elsewhere: four incidents."""
    seed_tenants(live_app.env, [TENANT])
    yield asyncio.run(_seed(live_app))


async def _seed(live_app: LiveApp) -> Echo:
    async with _session(live_app) as session:
        tenant_id = (await tenancy.get_tenant_by_name(session, name=TENANT)).id or 0
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)
    for hour in range(6):
        window = first + timedelta(hours=hour)
        start = window.timestamp()
        findings = [_beacon("10.20.0.5", C2, first.timestamp(), start + HOUR - 30, 84.0)]
        findings += [_scan(start, 66.0 + hour)] if hour < 3 else []
        findings += [_brute(start, 48.0)] if hour == 3 else []
        findings += [_beacon("10.20.0.8", "198.51.100.20", start, start + HOUR - 30, 45.0, 8443)] if hour >= 4 else []
        await _fold(live_app, tenant_id, window, findings)
    async with _session(live_app) as session:
        top, total = await incident_queries.list_incidents(session, tenant_id=tenant_id, limit=10)
    assert total == 4 and top[0].kind == "beacon" and top[0].events == 6, [(i.kind, i.score, i.events) for i in top]
    return Echo(tenant_id, top[0].id or 0)


def _shots(app: LiveApp) -> Path:
    folder = Path(os.environ.get("SG_E2E_SHOTS") or app.log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _ranks(page: Page) -> list[str]:
    """The incident ids of the Drift table, in the order shown."""
    return [(await row.get_attribute("id") or "").removeprefix("incident-")
            for row in await page.locator("#incident-table tbody tr").all()]


async def test_overview_leads_with_incidents_and_the_top_one_opens_with_its_events(
        browser: Browser, live_app: LiveApp, echo: Echo) -> None:
    page = await login(browser, live_app, f"admin@{TENANT}.test", path="/overview")
    await expect(page.locator("#kpi-open")).to_have_text("4", timeout=20_000)
    # the severities add up to the open total: one critical beacon, one high scan, two medium
    for severity, count in (("critical", 1), ("high", 1), ("medium", 2), ("low", 0), ("info", 0)):
        await expect(page.locator(f"#kpi-open_{severity}")).to_have_text(str(count))
    await expect(page.locator("#kpi-last_24h")).to_have_text("4")
    rows = page.locator("#top-incidents a")
    await expect(rows).to_have_count(4)
    await expect(rows.first).to_contain_text("every 60 s")
    await expect(rows.first).to_contain_text("6 events")
    # the columns line up: every row's cells start where the header's do (issue 21's screenshot note)
    lefts = await page.eval_on_selector_all(
        "#top-incidents-header, #top-incidents a > div",
        "els => els.map(e => [...e.children].map(c => Math.round(c.getBoundingClientRect().left)))")
    assert len(lefts) == 5 and all(cells == lefts[0] for cells in lefts), lefts
    # ... and every row spans the card, a short summary too (its link was inline: the row shrank to its text)
    widths = await page.eval_on_selector_all(
        "#top-incidents-header, #top-incidents a > div", "els => els.map(e => Math.round(e.getBoundingClientRect().width))")
    assert len(set(widths)) == 1, widths
    await page.wait_for_selector("#timeline .main-svg", timeout=20_000)
    # the bars count the incidents the KPIs count: four open, one bar segment per severity and hour
    await expect(page.locator("#timeline-count")).to_contain_text("4 of the 4 open incidents")
    assert await page.locator("#timeline .barlayer .point").count() >= 3
    # a period travels in the URL; a link with a bad one says so and shows the default week
    await page.locator("#period-pick").click()
    await page.get_by_role("option", name="all", exact=True).click()
    await page.click("#period-show")
    await page.wait_for_function("location.search === '?period=all'", timeout=10_000)
    await expect(page.locator("#timeline-count")).to_contain_text(
        "4 of the 4 open incidents started in this period (all:")
    await page.goto(f"{live_app.base_url}/overview?period=1y")
    await expect(page.locator("#period-message")).to_contain_text("unknown period '1y'", timeout=20_000)
    await expect(page.locator("#timeline-count")).to_contain_text("in this period (last 7 days:")
    await page.set_viewport_size({"width": 1400, "height": 1100})
    await page.screenshot(path=str(_shots(live_app) / "overview-incidents.png"), full_page=True)

    await rows.first.click()
    await page.wait_for_url(re.compile(rf"/drift\?incident={echo.top_id}$"), timeout=20_000)
    detail = page.locator("#incident-detail")
    await expect(detail.locator("#incident-summary")).to_contain_text("10.20.0.5 → 203.0.113.7", timeout=20_000)
    await expect(detail.locator("#incident-facts")).to_contain_text("timestamp regularity score")
    await expect(detail.locator("#incident-counts")).to_contain_text("6")
    await expect(page.locator("#incident-events tbody tr")).to_have_count(6)
    await expect(page.locator("#incident-events-page")).to_have_text("1–6 of 6")
    await page.screenshot(path=str(_shots(live_app) / "drift-incident.png"), full_page=True)
    # an event of the incident opens the event detail as the Events tab does
    await page.locator("#incident-events tbody tr").first.get_by_role("button", name="Open").click()
    await expect(page.locator("#event-explanation")).to_contain_text("every 60 s", timeout=10_000)


async def _pick(page: Page, name: str, value: str) -> None:
    """Choose `value` in the incident filter `name` (a Radix select: its trigger, then the option)."""
    await page.locator(f"#incident-filter-{name}").click()
    await page.get_by_role("option", name=value, exact=True).click()


async def test_filters_and_the_open_incident_are_in_a_shareable_url(
        browser: Browser, live_app: LiveApp, echo: Echo) -> None:
    page = await login(browser, live_app, f"viewer@{TENANT}.test", path="/drift")
    await expect(page.locator("#incident-table tbody tr")).to_have_count(4, timeout=20_000)
    await _pick(page, "kind", "beacon")
    await page.click("#incident-filter")
    await expect(page.locator("#incident-table tbody tr")).to_have_count(2, timeout=10_000)
    await page.locator("#incident-table tbody tr").first.click()
    await expect(page.locator("#incident-summary")).to_be_visible(timeout=10_000)
    await page.wait_for_function("location.search.includes('incident=')")
    shared = page.url
    assert "kind=beacon" in shared, shared
    # a viewer reads, but has no actions
    assert await page.locator("#incident-false-positive").count() == 0
    # a colleague of the same tenant opening the link sees the same view
    colleague = await login(browser, live_app, f"analyst@{TENANT}.test", path="/overview")
    await colleague.goto(shared)
    await expect(colleague.locator("#incident-table tbody tr")).to_have_count(2, timeout=20_000)
    await expect(colleague.locator("#incident-summary")).to_have_text(await page.locator("#incident-summary").inner_text())
    await expect(colleague.locator("#incident-false-positive")).to_be_visible()


async def test_a_false_positive_lowers_the_next_similar_incident(
        browser: Browser, live_app: LiveApp, echo: Echo) -> None:
    page = await login(browser, live_app, f"analyst@{TENANT}.test", path=f"/drift?incident={echo.top_id}")
    await expect(page.locator("#incident-summary")).to_be_visible(timeout=20_000)
    await page.evaluate("window.__noReload = true")
    await page.click("#incident-false-positive")
    dialog = page.get_by_role("alertdialog")
    await expect(dialog).to_contain_text("rank lower")
    await dialog.locator("#incident-note").fill("our backup agent polls its vendor")
    await page.click("#incident-confirm")
    await expect(page.locator("#incident-notice")).to_contain_text("false positive", timeout=10_000)
    await expect(page.locator("#incident-detail")).to_contain_text("false_positive")
    # the table shows open incidents: the marked one left it
    await expect(page.locator(f"#incident-{echo.top_id}")).to_have_count(0, timeout=10_000)

    # Then a new hour: the same kind of beacon from another home host to the same /24, and, to compare, a beacon of
    # the same risk to an unrelated destination. Both start after the verdict.
    start = time.time() + 1
    window = datetime.fromtimestamp(start, UTC).replace(minute=0, second=0, microsecond=0)
    similar, unrelated = _beacon("10.20.0.6", "203.0.113.9", start, start + 120, 84.0), \
        _beacon("10.20.0.7", "192.0.2.50", start, start + 120, 84.0)
    await _fold(live_app, echo.tenant_id, window, [similar, unrelated])
    async with _session(live_app) as session:
        rows, _ = await incident_queries.list_incidents(session, tenant_id=echo.tenant_id, status="open",
                                                        kind="beacon")
    by_target = {r.entity.split(" → ")[1]: r for r in rows}
    similar_id, unrelated_id = str(by_target["203.0.113.9"].id), str(by_target["192.0.2.50"].id)
    # the page follows live (no reload): both appear, the unrelated one first at its full risk
    await expect(page.locator(f"#incident-{similar_id}")).to_be_visible(timeout=20_000)
    await expect(page.locator(f"#incident-{unrelated_id}")).to_contain_text("84")
    await expect(page.locator(f"#incident-{similar_id}")).to_contain_text("1 similar marked false positive")
    order = await _ranks(page)
    assert order[0] == unrelated_id, order
    # 84 × 2^(-1/3) ≈ 66.7: below the unrelated beacon and below the inbound scan (68)
    assert order.index(similar_id) == 2, order
    assert by_target["203.0.113.9"].score < by_target["192.0.2.50"].score == 84.0
    assert await page.evaluate("window.__noReload === true")
    await page.screenshot(path=str(_shots(live_app) / "drift-after-false-positive.png"), full_page=True)


async def _upload_and_settle(app: LiveApp, token: str, within: float = 240) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=app.base_url, timeout=30) as client:
        answer = await client.put("/api/v1/settings/home", headers=headers,
                                  json={"home_networks": [], "sensors": [SENSOR], "home_private": True})
        assert answer.status_code == 200, answer.text
        for path in RITA_HOURS:
            answer = await client.post("/api/v1/flows?format=zeek", content=path.read_bytes(), headers=headers)
            assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            runs = (await client.get("/api/v1/jobs?limit=500", headers=headers)).json()
            if runs and not [r for r in runs if r["status"] in ("queued", "running", "retrying")]:
                assert not [r for r in runs if r["status"] == "failed"], runs
                return
            await asyncio.sleep(0.5)
    raise AssertionError("jobs did not settle")


@pytest.mark.skipif(not RITA_HOURS, reason=f"the RITA capture is not in {SHARED_DATA}")
async def test_uploaded_flows_become_incidents_whose_counts_add_up(browser: Browser, live_app: LiveApp) -> None:
    seed_tenants(live_app.env, ["foxtrot"])
    token = sg(live_app.env, "token", "create", "--tenant", "foxtrot", "--role", "admin", "--user", "admin@foxtrot.test")
    await _upload_and_settle(live_app, token)
    page = await login(browser, live_app, "analyst@foxtrot.test", path="/overview")
    await page.wait_for_selector("#top-incidents", timeout=20_000)
    open_total = int((await page.locator("#kpi-open").inner_text()).replace(",", ""))
    by_severity = [int((await page.locator(f"#kpi-open_{s}").inner_text()).replace(",", ""))
                   for s in ("critical", "high", "medium", "low", "info")]
    assert 0 < open_total == sum(by_severity) <= 50, by_severity
    assert by_severity[0] == 0  # the demo capture has nothing critical (docs/detection.md, goals)
    # the replayed day is "the last day of flows": its incidents count and are on the timeline
    assert int(await page.locator("#kpi-last_24h").inner_text()) > 0
    await page.wait_for_selector("#timeline .main-svg", timeout=20_000)
    # the week ends at the replayed capture's newest hour, so all of its open incidents are on the bars
    await expect(page.locator("#timeline-count")).to_contain_text(f"{open_total} of the {open_total} open incidents")
    await expect(page.locator("#top-incidents a")).to_have_count(min(10, open_total))
    await page.set_viewport_size({"width": 1400, "height": 1100})
    await page.screenshot(path=str(_shots(live_app) / "overview-rita.png"), full_page=True)
    top = page.locator("#top-incidents a").first
    events = re.search(r"([\d,]+) events?", await top.inner_text())
    assert events, await top.inner_text()
    await top.click()
    await expect(page.locator("#incident-summary")).to_be_visible(timeout=20_000)
    shown = min(20, int(events.group(1).replace(",", "")))
    await expect(page.locator("#incident-events tbody tr")).to_have_count(shown, timeout=10_000)
    await expect(page.locator("#incident-events-page")).to_have_text(f"1–{shown} of {events.group(1)}")
    # every RITA incident names the sensor 64.225.56.201 (DigitalOcean): its owner, from ingest's enrichment,
    # shown with the data's attribution and DB-IP's link
    owners = page.locator("#incident-owners")
    await expect(owners).to_contain_text("64.225.56.201", timeout=10_000)
    await expect(owners).to_contain_text("AS14061")
    await expect(page.locator("#incident-owners-attribution")).to_contain_text("DB-IP")
    link = page.locator("#incident-owners-attribution a")
    assert await link.get_attribute("href") == "https://db-ip.com"
    await page.screenshot(path=str(_shots(live_app) / "drift-rita.png"), full_page=True)
