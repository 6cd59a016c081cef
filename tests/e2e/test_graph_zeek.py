"""The Graph page on two real hours of an internet-facing Zeek sensor (RITA's capture, sensor 64.225.56.201):
the sensor in the centre, outside peers grouped by AS and country, arrowheads, the country filter, a peer's
details with the DB-IP attribution, a diff of only the changes, and the snapshot's own URL."""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.apprunner import LiveApp, seed_tenants, sg
from tests.conftest import SHARED_DATA
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
TENANT = "zeekgraph"
SENSOR = "64.225.56.201"
HOURS = [SHARED_DATA / f"zeek/rita-missing-host/2024-04-19/conn.{h:02d}_00_00-{h + 1:02d}_00_00.log.gz" for h in (10, 11)]
PLOT = "#graph-plot .js-plotly-plot"
SHOTS = Path(os.environ.get("SG_GRAPH_SHOTS", "/tmp/sg-graph-shots"))


async def _settle(client: httpx.AsyncClient, headers: dict[str, str], within: float = 180) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        jobs = (await client.get("/api/v1/jobs?limit=500", headers=headers)).json()
        if jobs and not [r for r in jobs if r["status"] in ("queued", "running", "retrying")]:
            return
        await asyncio.sleep(0.5)
    raise AssertionError("jobs did not settle")


async def _push(app: LiveApp, token: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=app.base_url, timeout=60) as client:
        home = {"home_networks": [], "sensors": [SENSOR], "home_private": True}
        answer = await client.put("/api/v1/settings/home", json=home, headers=headers)
        assert answer.status_code == 200, answer.text
        for path in HOURS:
            answer = await client.post("/api/v1/flows?format=auto", content=gzip.decompress(path.read_bytes()),
                                       headers=headers)
            assert answer.status_code == 202, answer.text
            await _settle(client, headers)
        return list((await client.get("/api/v1/snapshots", headers=headers)).json())


@pytest.fixture(scope="module")
def zeek_snapshots(live_app: LiveApp) -> list[dict[str, Any]]:
    """The tenant's hourly snapshots of the two Zeek hours, newest first."""
    seed_tenants(live_app.env, [TENANT])
    sg(live_app.env, "tenant", "set-window", TENANT, "1h")
    token = sg(live_app.env, "token", "create", "--tenant", TENANT, "--role", "admin", "--user", f"admin@{TENANT}.test")
    snapshots = asyncio.run(_push(live_app, token))
    assert len(snapshots) >= 2 and all(s["nodes"] > 100 for s in snapshots[:2])
    return snapshots


async def _open(browser: Browser, live_app: LiveApp, query: str, size: tuple[int, int] = (1440, 900)) -> Page:
    page = await login(browser, live_app, f"admin@{TENANT}.test", path="/overview")
    await page.goto(f"{live_app.base_url}/graph{query}")  # the whole query (a login `next` would split it at &)
    await page.set_viewport_size({"width": size[0], "height": size[1]})
    await page.wait_for_selector(f"{PLOT} .main-svg", timeout=30_000)
    return page


async def _traces(page: Page) -> list[dict[str, Any]]:
    return list(await page.evaluate(
        f"""Array.from(document.querySelector('{PLOT}').data, t => ({{name: t.name, meta: t.meta || null,
            x: Array.from(t.x || []), y: Array.from(t.y || []), text: Array.from(t.text || []),
            angle: t.marker && t.marker.angle ? Array.from(t.marker.angle) : null}}))"""))


async def test_the_sensor_sits_in_the_centre_with_peers_grouped_by_network_and_directed_edges(
        browser: Browser, live_app: LiveApp, zeek_snapshots: list[dict[str, Any]]) -> None:
    latest = zeek_snapshots[0]
    page = await _open(browser, live_app, f"?snapshot={latest['id']}")
    await expect(page.locator("#graph-count-nodes")).to_contain_text(f"{latest['nodes']:,}", timeout=20_000)
    traces = {t["name"]: t for t in await _traces(page)}
    home = traces["home"]
    assert home["text"][0].startswith(f"{SENSOR}<br>") and (home["x"][0], home["y"][0]) == (0, 0)
    groups = traces["outside group"]["text"]
    assert any(t.startswith("AS14061 DigitalOcean") for t in groups), groups[:5]
    assert len(groups) < latest["nodes"] / 2
    # every line has its arrowhead, turned towards its destination
    lines = traces["edges"]
    heads = traces["edges direction"]
    assert heads["meta"] == {"directed": True} and len(heads["angle"]) == len(lines["x"]) // 3
    # labels: the sensor's is drawn, and no two drawn labels overlap on the page
    boxes = await page.evaluate(f"""Array.from(document.querySelectorAll('{PLOT} .textpoint text'))
        .filter(t => t.textContent).map(t => {{ const r = t.getBoundingClientRect();
        return [t.textContent, r.left, r.top, r.right, r.bottom]; }})""")
    assert SENSOR in [b[0] for b in boxes]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[1] < b[3] - 1 and b[1] < a[3] - 1 and a[2] < b[4] - 1 and b[2] < a[4] - 1), (a, b)
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "zeek-1440.png"), full_page=True)
    await page.set_viewport_size({"width": 1024, "height": 768})
    await page.wait_for_timeout(2000)  # plotly redraws for the new width
    await page.screenshot(path=str(SHOTS / "zeek-1024.png"), full_page=True)


async def test_country_filter_keeps_that_countrys_peers_and_the_url_follows(
        browser: Browser, live_app: LiveApp, zeek_snapshots: list[dict[str, Any]]) -> None:
    page = await _open(browser, live_app, f"?snapshot={zeek_snapshots[0]['id']}")
    await page.evaluate("window.__noReload = true")
    options = await page.eval_on_selector_all("#graph-country option", "os => os.map(o => o.value).filter(v => v)")
    country = next(c for c in options if c != "US")
    before = await page.inner_text("#graph-count-nodes")
    await page.select_option("#graph-country", country)
    await expect(page.locator("#graph-count-nodes")).not_to_have_text(before, timeout=10_000)
    await expect(page).to_have_url(f"{live_app.base_url}/graph?snapshot={zeek_snapshots[0]['id']}&country={country}")
    traces = {t["name"]: t for t in await _traces(page)}
    peers = [*traces.get("outside group", {"text": []})["text"], *traces.get("external", {"text": []})["text"]]
    assert peers and all(f", {country}" in t for t in peers), peers
    assert traces["home"]["text"][0].startswith(SENSOR)
    assert await page.evaluate("window.__noReload === true")
    # the link opens the same view
    again = await _open(browser, live_app, f"?snapshot={zeek_snapshots[0]['id']}&country={country}")
    await expect(again.locator("#graph-country")).to_have_value(country)


async def test_a_peers_details_name_its_network_with_the_db_ip_attribution(
        browser: Browser, live_app: LiveApp, zeek_snapshots: list[dict[str, Any]]) -> None:
    page = await _open(browser, live_app, f"?snapshot={zeek_snapshots[0]['id']}&asn=14061")
    traces = {t["name"]: t for t in await _traces(page)}
    peers = [*traces.get("outside group", {"text": []})["text"], *traces.get("external", {"text": []})["text"]]
    assert peers and all("AS14061 DigitalOcean" in t for t in peers), peers
    await page.fill("#graph-text", ".")  # every address: the sensor and the DigitalOcean peers
    matches = page.locator("#graph-matches button")
    await expect(matches.first).to_be_visible(timeout=10_000)
    for index in range(await matches.count()):
        if (await matches.nth(index).inner_text()) != SENSOR:
            await matches.nth(index).click()
            break
    await expect(page.locator("#graph-detail-zone")).to_contain_text("outside", timeout=10_000)
    await expect(page.locator("#graph-detail-peer")).to_contain_text("AS14061")
    await expect(page.locator("#graph-detail-peer")).to_contain_text("DigitalOcean")
    await expect(page.locator("#graph-detail-peer")).to_contain_text("country")
    link = page.locator("#graph-details #graph-dbip-link")
    await expect(link).to_have_attribute("href", "https://db-ip.com")
    await expect(page.locator("#graph-details")).to_contain_text("RouteViews")


async def test_the_diff_draws_only_what_changed(
        browser: Browser, live_app: LiveApp, zeek_snapshots: list[dict[str, Any]]) -> None:
    latest, base = zeek_snapshots[0], zeek_snapshots[1]
    page = await _open(browser, live_app, f"?snapshot={latest['id']}&compare={base['id']}")
    await expect(page.locator("#graph-count-added-edges")).to_be_visible(timeout=20_000)
    names = [t["name"] for t in await _traces(page)]
    assert "edges" not in names and "added edge" in names, names
    added = int((await page.inner_text("#graph-count-added-edges")).split(":")[-1].replace(",", ""))
    removed = int((await page.inner_text("#graph-count-removed-edges")).split(":")[-1].replace(",", ""))
    shown = int((await page.inner_text("#graph-count-edges")).split(":")[-1].replace(",", ""))
    assert 0 < shown <= added + removed + latest["edges"] and shown < latest["edges"] + base["edges"]
    await page.screenshot(path=str(SHOTS / "zeek-diff-1440.png"), full_page=True)
    # the whole graph, with the changes marked, is one switch away
    await page.click("#graph-changes-only")
    await expect(page).to_have_url(f"{live_app.base_url}/graph?snapshot={latest['id']}&compare={base['id']}&diff=all",
                                   timeout=10_000)
    assert "edges" in [t["name"] for t in await _traces(page)]


async def test_a_bad_snapshot_id_says_not_found(browser: Browser, live_app: LiveApp,
                                                zeek_snapshots: list[dict[str, Any]]) -> None:
    page = await login(browser, live_app, f"admin@{TENANT}.test", path="/graph?snapshot=99999999")
    await expect(page.locator("#graph-not-found")).to_contain_text("99999999 was not found", timeout=20_000)
    await expect(page.locator("#graph-plot")).to_have_count(0)
    # another tenant's snapshot is not found either
    other = await login(browser, live_app, "admin@alpha.test", path=f"/graph?snapshot={zeek_snapshots[0]['id']}")
    await expect(other.locator("#graph-not-found")).to_contain_text("was not found", timeout=20_000)
