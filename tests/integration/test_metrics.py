"""`/metrics` after real work: a worker process (multiprocess mode) runs an ingestion and a ping, the web app
adds up its counters and reads the gauges; the worker's JSON log lines carry the tenant and job ids."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from jobs.runtime.connections import get_redis
from jobs.runtime.constants import WORKER_KEY_PATTERN
from jobs.runtime.queue import enqueue_job
from tests.builders import bearer, make_tenant, settled
from tests.conftest import ROOT, SHARED_DATA

CONN_LOG = SHARED_DATA / "zeek" / "rita-truncated" / "conn.log"


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of an exposition, by sample name."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def value(found: dict[str, list[tuple[dict[str, str], float]]], metric: str, /, **labels: str) -> float:
    return sum(v for got, v in found.get(metric, []) if all(got.get(k) == want for k, want in labels.items()))


async def _start_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            str(ROOT / ".venv/bin/arq"), "jobs.worker.WorkerSettings", env=env, cwd=ROOT,
            stdout=out, stderr=out)
    for _ in range(300):
        if any(key.endswith(f":{proc.pid}") for key in await get_redis().keys(WORKER_KEY_PATTERN)):
            return proc
        await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError("the worker did not start")


async def test_metrics_count_a_worker_process_jobs_and_its_logs_are_json_with_tenant_and_job(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prom = tmp_path / "prom"
    prom.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(prom))
    acme = await make_tenant("acme")
    env = {**os.environ, "SG_LOG_FORMAT": "json"}
    log = tmp_path / "worker.log"
    proc = await _start_worker(env, log)
    try:
        pushed = await client.post("/api/v1/flows?format=zeek", content=CONN_LOG.read_bytes(),
                                   headers=bearer(acme.token))
        assert pushed.status_code == 202, pushed.text
        ping = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="tester")
        await settled(acme.tenant_id, within=120)
        # The notifier drain is a cron every 2 s: a fast run can settle before its first tick.
        for _ in range(100):
            scraped = await client.get("/metrics")
            if value(samples(scraped.text), "sg_jobs_total", name="drain_notifications", status="succeeded"):
                break
            await asyncio.sleep(0.1)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    found = samples(scraped.text)
    assert value(found, "sg_jobs_total", name="ping", queue="interactive", status="succeeded") == 1
    assert value(found, "sg_jobs_total", name="ingest_flows", queue="bulk", status="succeeded") == 1
    assert value(found, "sg_jobs_total", name="build_snapshot", queue="bulk", status="succeeded") >= 1
    assert value(found, "sg_job_duration_seconds_count", name="ping") == 1
    assert value(found, "sg_ingest_rows_total", outcome="accepted") > 0
    assert value(found, "sg_job_wait_seconds_count", queue="interactive") >= 1
    # Cron entries count as jobs too (the notifier drain runs every 2 s on the interactive queue).
    assert value(found, "sg_jobs_total", name="drain_notifications", queue="interactive", status="succeeded") >= 1
    assert {labels["queue"] for labels, _ in found["sg_queue_depth"]} == {"interactive", "bulk"}
    # Cron entries wait deferred in their queue, so depth need not be 0 here (a queued job is counted below).
    assert all(v >= 0 for _, v in found["sg_queue_depth"])
    assert value(found, "sg_job_runs_active", tenant=str(acme.tenant_id)) == 0
    assert "sg_live_sessions" in found and "sg_notifier_deliveries" in scraped.text
    # The worker's log: JSON lines, the job's own lines with its tenant and ARQ job id.
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    ping_lines = [entry for entry in lines if entry.get("job_name") == "ping"]
    assert ping_lines and ping_lines[0]["tenant_id"] == acme.tenant_id
    assert ping_lines[0]["job_id"] == ping.arq_job_id and ping_lines[0]["job_run_id"] == ping.id
    assert ping_lines[0]["status"] == "succeeded" and ping_lines[0]["level"] == "INFO"


async def test_metrics_need_the_token_when_one_is_set_and_loopback_otherwise(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = await make_tenant("acme")
    await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="tester")  # no worker runs: it waits
    open_scrape = await client.get("/metrics")  # the in-process client is 127.0.0.1
    assert open_scrape.status_code == 200
    found = samples(open_scrape.text)
    assert value(found, "sg_queue_due", queue="interactive") == 1 and value(found, "sg_queue_due", queue="bulk") == 0
    assert value(found, "sg_job_runs_active", tenant=str(acme.tenant_id), status="queued") == 1
    monkeypatch.setenv("SG_METRICS_TOKEN", "scrape-secret")
    refused = await client.get("/metrics")
    assert refused.status_code == 401 and "SG_METRICS_TOKEN" in refused.json()["error"]["message"]
    assert (await client.get("/metrics", headers=bearer("wrong"))).status_code == 401
    assert (await client.get("/metrics", headers=bearer("scrape-secret"))).status_code == 200
    monkeypatch.delenv("SG_METRICS_TOKEN")
    transport = httpx.ASGITransport(app=client._transport.app, client=("10.0.0.9", 4000))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://sg.test") as outsider:
        far = await outsider.get("/metrics")
    assert far.status_code == 403 and "loopback" in far.json()["error"]["message"]
