"""The Graph page in Chromium on the real Hubble bookinfo flows: nodes and edges, a click, filters, a diff."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.apprunner import LiveApp, seed_tenants, sg
from tests.conftest import SHARED_DATA
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
HTTP_FLOWS = SHARED_DATA / "hubble/basic-sample-348-http-flows.json"
PLOT = "#graph-plot .js-plotly-plot"


async def _push(app: LiveApp, token: str, within: float = 120) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=app.base_url, timeout=30) as client:
        answer = await client.post("/api/v1/flows?format=hubble", content=HTTP_FLOWS.read_bytes(), headers=headers)
        assert answer.status_code == 202, answer.text
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            jobs = (await client.get("/api/v1/jobs?limit=500", headers=headers)).json()
            if jobs and not [r for r in jobs if r["status"] in ("queued", "running", "retrying")]:
                return list((await client.get("/api/v1/snapshots", headers=headers)).json())
            await asyncio.sleep(0.5)
    raise AssertionError("jobs did not settle")


@pytest.fixture(scope="module")
def bravo_snapshots(live_app: LiveApp) -> list[dict[str, Any]]:
    """Bravo's two 5-minute windows of the bookinfo HTTP flows (14:25 and 14:30), newest first."""
    sg(live_app.env, "tenant", "set-window", "bravo", "5m")
    token = sg(live_app.env, "token", "create", "--tenant", "bravo", "--role", "analyst")
    snapshots = asyncio.run(_push(live_app, token))
    assert [s["window_start"][11:16] for s in snapshots] == ["14:30", "14:25"]
    return snapshots


async def _trace_names(page: Page) -> list[str]:
    return list(await page.evaluate(f"Array.from(document.querySelector('{PLOT}').data, t => t.name)"))


async def _click_node(page: Page, key: str) -> None:
    """Click the node's point in the plot, where a user would."""
    box = await page.evaluate(
        """([sel, key]) => { const gd = document.querySelector(sel); const L = gd._fullLayout;
            for (const t of gd.data) { const i = (t.text || []).findIndex(s => String(s).startsWith(key + '<br>'));
              if (i >= 0 && t.mode && t.mode.startsWith('markers')) { const r = gd.getBoundingClientRect();
                return [r.left + L._size.l + L.xaxis.l2p(t.x[i]), r.top + L._size.t + L.yaxis.l2p(t.y[i])]; } }
            return null; }""", [PLOT, key])
    assert box, f"{key} is not drawn"
    await page.mouse.move(box[0], box[1])
    await page.mouse.click(box[0], box[1])


async def test_graph_shows_bookinfo_and_a_click_lists_productpage_edges(
        browser: Browser, live_app: LiveApp, bravo_snapshots: list[dict[str, Any]]) -> None:
    page = await login(browser, live_app, "admin@bravo.test", path="/graph")
    await page.wait_for_selector(f"{PLOT} .main-svg", timeout=20_000)
    plot = page.locator("#graph-plot")
    for name in ("productpage-v1", "reviews-v1", "ratings-v1"):
        await expect(plot).to_contain_text(name, timeout=20_000)
    await expect(page.locator("#graph-count-edges")).to_contain_text("12")
    assert "edges" in await _trace_names(page)
    await _click_node(page, "bookinfo/productpage-v1")
    await expect(page.locator("#graph-detail-key")).to_have_text("bookinfo/productpage-v1", timeout=10_000)
    await expect(page.locator("#graph-detail-out")).to_contain_text("bookinfo/reviews-v1")
    await expect(page.locator("#graph-detail-out")).to_contain_text("9080/tcp")
    await expect(page.locator("#graph-detail-in")).to_contain_text("bookinfo/ratings-v1")
    await expect(page.locator("#graph-details")).to_contain_text("app=productpage")


async def test_namespace_filter_and_search(browser: Browser, live_app: LiveApp,
                                           bravo_snapshots: list[dict[str, Any]]) -> None:
    page = await login(browser, live_app, "admin@bravo.test", path="/graph")
    await page.wait_for_selector(f"{PLOT} .main-svg", timeout=20_000)
    await page.evaluate("window.__noReload = true")
    await page.select_option("#graph-namespace", "bookinfo")
    await expect(page.locator("#graph-count-nodes")).to_contain_text("3", timeout=10_000)
    await expect(page.locator("#graph-plot")).not_to_contain_text("prometheus")
    await expect(page.locator("#graph-plot")).to_contain_text("reviews-v1")
    await page.select_option("#graph-namespace", "")
    await expect(page.locator("#graph-plot")).to_contain_text("prometheus", timeout=10_000)
    await page.fill("#graph-text", "ratings")
    await expect(page.locator("#graph-matches")).to_contain_text("bookinfo/ratings-v1", timeout=10_000)
    assert "search match" in await _trace_names(page)
    await page.locator("#graph-matches").get_by_role("button", name="bookinfo/ratings-v1").click()
    await expect(page.locator("#graph-detail-key")).to_have_text("bookinfo/ratings-v1", timeout=10_000)
    await page.fill("#graph-text", "no-such-workload")
    await expect(page.locator("#graph-no-match")).to_be_visible(timeout=10_000)
    assert await page.evaluate("window.__noReload === true")


async def test_diff_between_two_snapshots_highlights_the_added_edge(
        browser: Browser, live_app: LiveApp, bravo_snapshots: list[dict[str, Any]]) -> None:
    latest, base = bravo_snapshots
    page = await login(browser, live_app, "admin@bravo.test", path="/graph")
    await page.wait_for_selector(f"{PLOT} .main-svg", timeout=20_000)
    await expect(page.locator("#graph-snapshot")).to_have_value(str(latest["id"]), timeout=10_000)
    await page.select_option("#graph-compare", str(base["id"]))
    await expect(page.locator("#graph-count-added-edges")).to_contain_text("1", timeout=10_000)
    await expect(page.locator("#graph-count-added-nodes")).to_contain_text("1")
    await expect(page.locator("#graph-count-removed-edges")).to_contain_text("0")
    hover = await page.evaluate(f"document.querySelector('{PLOT}').data.find(t => t.name === 'edge info').text")
    (added,) = [text for text in hover if text.startswith("bookinfo/productpage-v1 → bookinfo/reviews-v1")]
    # the new edge also raised a new-edge drift event, and drift is drawn over "added"
    style = added.rsplit("<br>", 1)[-1]
    assert style in ("added edge", "edge with drift")
    names = await _trace_names(page)
    assert style in names and "removed edge" not in names
    async with page.expect_download() as download:
        await page.click("#graph-download-json")
    path = await (await download.value).path()
    assert '"bookinfo/reviews-v1"' in path.read_text()


async def test_latest_vs_baseline_and_png_export(browser: Browser, live_app: LiveApp,
                                                 bravo_snapshots: list[dict[str, Any]]) -> None:
    page = await login(browser, live_app, "admin@bravo.test", path="/graph")
    await page.wait_for_selector(f"{PLOT} .main-svg", timeout=20_000)
    await page.select_option("#graph-compare", "baseline")
    # the baseline holds the earlier window: the latest adds productpage → reviews
    await expect(page.locator("#graph-count-added-edges")).to_contain_text("1", timeout=10_000)
    await expect(page.locator("#graph-count-removed-edges")).to_contain_text("0")
    # an older snapshot has no baseline diff: a clear message, and the overlay is turned off
    await page.select_option("#graph-snapshot", str(bravo_snapshots[1]["id"]))
    await page.select_option("#graph-compare", "baseline")
    await expect(page.locator("#graph-message")).to_contain_text("latest snapshot", timeout=10_000)
    await expect(page.locator("#graph-compare")).to_have_value("")
    await page.hover(PLOT)  # plotly shows its mode bar on hover
    async with page.expect_download() as download:
        await page.locator(f"{PLOT} .modebar-btn[data-title^='Download plot']").click()
    path = await (await download.value).path()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (await download.value).suggested_filename == "secureguard-graph.png"


async def test_a_rebuilt_snapshot_is_offered_live_and_opening_it_keeps_the_filters(
        browser: Browser, live_app: LiveApp, bravo_snapshots: list[dict[str, Any]]) -> None:
    latest = bravo_snapshots[0]
    token = sg(live_app.env, "token", "create", "--tenant", "bravo", "--role", "analyst")
    page = await login(browser, live_app, "admin@bravo.test", path="/graph")
    await page.wait_for_selector(f"{PLOT} .main-svg", timeout=20_000)
    await page.select_option("#graph-namespace", "bookinfo")
    await expect(page.locator("#graph-count-nodes")).to_contain_text("3", timeout=10_000)
    async with httpx.AsyncClient(base_url=live_app.base_url, timeout=30) as client:
        built = await client.post("/api/v1/snapshots/build", headers={"Authorization": f"Bearer {token}"},
                                  json={"window_start": latest["window_start"], "window_end": latest["window_end"]})
    assert built.status_code == 202, built.text
    offer = page.locator("#graph-live-offer")
    await expect(offer).to_contain_text(latest["window_start"][11:16], timeout=30_000)
    await page.click("#graph-live-show")
    await expect(offer).to_have_count(0, timeout=10_000)
    await expect(page.locator("#graph-namespace")).to_have_value("bookinfo")
    await expect(page.locator("#graph-count-nodes")).to_contain_text("3")


def _ring_csv(size: int) -> bytes:
    """`size` workloads of namespace `big`, each calling the next on 8080: one namespace group, which opened is
    `size` nodes and `size` edges (past WEBGL_FROM, so drawn with WebGL)."""
    lines = ["ts_start,src_ip,dst_ip,src_port,dst_port,protocol,bytes,packets,src_name,dst_name,src_namespace,"
             "dst_namespace"]
    for i in range(size):
        j = (i + 1) % size
        lines.append(f"2024-04-19T10:{i % 60:02d}:00Z,10.9.{i // 250}.{i % 250 + 1},10.9.{j // 250}.{j % 250 + 1},"
                     f"40000,8080,tcp,100,1,w{i},w{j},big,big")
    return ("\n".join(lines) + "\n").encode()


async def _trace_types(page: Page) -> list[str]:
    return list(await page.evaluate(f"Array.from(document.querySelector('{PLOT}').data, t => t.type)"))


async def test_a_graph_opened_past_the_webgl_size_is_drawn_with_webgl(browser: Browser, live_app: LiveApp) -> None:
    """The page draws small graphs with plotly's basic bundle and switches to the gl2d bundle once a view has
    WebGL traces (dashboard/components/plots.py): open a namespace group of 600 workloads."""
    seed_tenants(live_app.env, ["webgl"])
    token = sg(live_app.env, "token", "create", "--tenant", "webgl", "--role", "analyst")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=live_app.base_url, timeout=30) as client:
        answer = await client.post("/api/v1/flows?format=csv", content=_ring_csv(600), headers=headers)
        assert answer.status_code == 202, answer.text
        deadline = asyncio.get_running_loop().time() + 120
        while not (await client.get("/api/v1/snapshots", headers=headers)).json():
            assert asyncio.get_running_loop().time() < deadline, "no snapshot within 120 s"
            await asyncio.sleep(0.5)
    page = await login(browser, live_app, "analyst@webgl.test", path="/graph")
    await page.wait_for_selector(f"{PLOT} .main-svg", timeout=20_000)
    assert set(await _trace_types(page)) == {"scatter"}  # grouped: a handful of nodes, SVG
    await _click_node(page, "big (600)")  # the group of namespace big: its name and size
    await expect(page.locator(f"{PLOT} canvas").first).to_be_attached(timeout=20_000)
    types = await _trace_types(page)
    assert "scattergl" in types and "scatter" not in types, types
    drawn = await page.evaluate(f"""() => document.querySelector('{PLOT}').data
        .filter(t => t.name === 'workload').reduce((n, t) => n + t.x.length, 0)""")
    assert drawn == 600
