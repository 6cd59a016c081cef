"""Job control through a real worker: a SIGKILLed worker, retry, cancel, Redis flushed, roles, tenants."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from arq.constants import in_progress_key_prefix, retry_key_prefix
from sqlmodel import func, select

from jobs.runtime.connections import get_redis
from jobs.runtime.constants import WORKER_KEY_PATTERN, snapshot_lock_key
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import PermanentJobError, tracked
from jobs.tasks.sweeper import GRACE, sweep_lost_runs, sweep_tenant
from models.db import session_scope
from models.graph import Snapshot
from models.queries import jobs as job_queries
from models.queries.audit import list_audit
from models.types import utcnow
from tests.builders import bearer, make_tenant, person_token, settled
from tests.conftest import ROOT, SHARED_DATA

pytestmark = pytest.mark.integration
CONN_LOG = SHARED_DATA / "zeek" / "rita-truncated" / "conn.log"


@tracked(timeout=10, max_tries=1)
async def doomed(ctx: dict[str, Any], *, tenant_id: int) -> dict[str, Any]:
    # An unexpected error: another attempt may pass (after a fix or when the cause went away), so retry is offered.
    raise RuntimeError("the scratch disk was full")


@tracked(timeout=10, max_tries=1)
async def hopeless(ctx: dict[str, Any], *, tenant_id: int) -> dict[str, Any]:
    raise PermanentJobError("the window 2024-13-01 does not exist")


async def token_for(tenant_id: int, role: str) -> str:
    return await person_token(tenant_id, role)


async def wait_for(tenant_id: int, run_id: int, statuses: set[str], within: float = 20) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with session_scope() as session:
            run = await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=run_id)
        if run.status in statuses:
            return run
        assert loop.time() < deadline, f"run #{run_id} stuck in {run.status}"
        await asyncio.sleep(0.05)




async def snapshots_of_window(tenant_id: int, window_start: datetime) -> int:
    async with session_scope() as session:
        query = select(func.count()).select_from(Snapshot).where(
            Snapshot.tenant_id == tenant_id, Snapshot.window_start == window_start)
        return int((await session.exec(query)).one())


async def _worker_keys() -> list[str]:
    return list(await get_redis().keys(WORKER_KEY_PATTERN))


async def _start_subprocess_worker() -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv/bin/arq"), "jobs.worker.WorkerSettings", env=dict(os.environ), cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    for _ in range(300):
        if any(key.endswith(f":{proc.pid}") for key in await _worker_keys()):
            return proc
        await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError("the worker subprocess did not start")


async def _sigkill(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL the worker subprocess (once) and reap it."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGKILL)
    await asyncio.wait_for(proc.wait(), 10)


async def test_sigkilled_worker_mid_build_the_build_runs_again_and_the_snapshot_exists_once(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    acme = await make_tenant("acme")
    async with worker_factory():
        pushed = await client.post("/api/v1/flows?format=zeek", content=CONN_LOG.read_bytes(), headers=bearer(acme.token))
        assert pushed.status_code == 202, pushed.text
        await settled(acme.tenant_id)
    snap = (await client.get("/api/v1/snapshots", headers=bearer(acme.token))).json()[0]
    start = datetime.fromisoformat(snap["window_start"])
    # Holding the window's lock keeps the build inside build_snapshot while we kill its worker.
    lock = get_redis().lock(snapshot_lock_key(acme.tenant_id, int(start.timestamp())), timeout=120)
    assert await lock.acquire()
    proc = await _start_subprocess_worker()
    try:
        built = await client.post("/api/v1/snapshots/build", headers=bearer(acme.token),
                                  json={"window_start": snap["window_start"], "window_end": snap["window_end"]})
        run_id = built.json()["job_ids"][0]
        running = await wait_for(acme.tenant_id, run_id, {"running"})
        assert running.worker_id.endswith(f":{proc.pid}")
        await _sigkill(proc)
    finally:
        await _sigkill(proc)
        await lock.release()
    for _ in range(400):  # the dead worker's heartbeat key expires (TTL 15 s)
        if not any(key.endswith(f":{proc.pid}") for key in await _worker_keys()):
            break
        await asyncio.sleep(0.1)
    assert await sweep_lost_runs({"redis": get_redis()}) == {"lost": 1, "requeued": 1}
    async with worker_factory():
        await settled(acme.tenant_id)
    async with session_scope() as session:
        lost = await job_queries.get_job_run(session, tenant_id=acme.tenant_id, job_run_id=run_id)
        runs = await job_queries.list_job_runs(session, tenant_id=acme.tenant_id, name="build_snapshot")
    again = [r for r in runs if r.retry_of == run_id]
    assert lost.status == "lost" and lost.attempts == 1 and "worker" in lost.error
    assert len(again) == 1 and again[0].status == "succeeded" and again[0].triggered_by.startswith("sweeper")
    assert again[0].result["snapshot_id"] == snap["id"]
    assert await snapshots_of_window(acme.tenant_id, start) == 1
    # A second sweep finds nothing: the re-queue happens once.
    assert await sweep_lost_runs({"redis": get_redis()}) == {"lost": 0, "requeued": 0}


async def test_a_run_taken_by_a_worker_killed_before_it_started_is_swept_and_run_again(
    client: httpx.AsyncClient, worker_factory: Any, sg_env: str
) -> None:
    """A worker takes a job off ARQ's queue (ARQ's in-progress key, held for the longest job timeout, 30 min) and
    is SIGKILLed before the job records its start: the run stays `queued` while ARQ keeps every worker off it. The
    sweeper must see that (it did not: a native cluster run waited 600 s on such an ingest)."""
    acme = await make_tenant("acme")
    run = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="t")
    # The worker's "running" update waits on this row lock, so it dies after the take and before the start.
    holder = await asyncpg.connect(sg_env.replace("postgresql+asyncpg://", "postgresql://", 1))
    locking = holder.transaction()
    await locking.start()
    await holder.execute("select id from job_run where id = $1 for update", run.id)
    proc = await _start_subprocess_worker()
    try:
        for _ in range(400):
            if await get_redis().exists(in_progress_key_prefix + run.arq_job_id, retry_key_prefix + run.arq_job_id) == 2:
                break
            await asyncio.sleep(0.025)
        else:
            raise AssertionError("the worker never took the job")
        await _sigkill(proc)
    finally:
        await _sigkill(proc)
        await locking.rollback()
        await holder.close()
    taken = await wait_for(acme.tenant_id, run.id or 0, {"queued"})
    assert taken.attempts == 0 and await get_redis().exists(in_progress_key_prefix + run.arq_job_id)
    redis = get_redis()
    # Within the grace a take is a worker about to start the job; past it, nobody will.
    assert await sweep_tenant(redis, tenant_id=acme.tenant_id, live=set(), now=utcnow()) == {"lost": 0, "requeued": 0}
    past = utcnow() + GRACE + timedelta(seconds=5)
    assert await sweep_tenant(redis, tenant_id=acme.tenant_id, live=set(), now=past) == {"lost": 1, "requeued": 1}
    async with worker_factory():
        await settled(acme.tenant_id)
    async with session_scope() as session:
        lost = await job_queries.get_job_run(session, tenant_id=acme.tenant_id, job_run_id=run.id or 0)
        runs = await job_queries.list_job_runs(session, tenant_id=acme.tenant_id, name="ping")
    assert lost.status == "lost"
    assert [(r.status, r.retry_of) for r in runs if r.id != run.id] == [("succeeded", run.id)]


async def test_a_failure_keeps_its_message_and_retry_links_a_new_run(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    acme = await make_tenant("acme", token_role="analyst")
    async with worker_factory([doomed]):
        run = await enqueue_job("doomed", tenant_id=acme.tenant_id, triggered_by="tester")
        await wait_for(acme.tenant_id, run.id or 0, {"failed"})
        got = (await client.get(f"/api/v1/jobs/{run.id}", headers=bearer(acme.token))).json()
        assert got["error"] == "RuntimeError: the scratch disk was full"
        retried = await client.post(f"/api/v1/jobs/{run.id}/retry", headers=bearer(acme.token))
        assert retried.status_code == 200, retried.text
        new = retried.json()
        assert new["retry_of"] == run.id and new["id"] != run.id and new["triggered_by"].startswith("token:")
        done = await wait_for(acme.tenant_id, new["id"], {"failed"})
    assert done.error == got["error"]
    audit = await client.get("/api/v1/jobs?status=failed&name=doomed", headers=bearer(acme.token))
    assert {r["id"] for r in audit.json()} == {run.id, new["id"]}
    async with session_scope() as session:
        entries = await list_audit(session, tenant_id=acme.tenant_id, action="job.retry")
    assert entries and entries[0].actor.startswith("token:") and entries[0].after["new_run"] == new["id"]


async def test_a_permanent_failure_is_not_retried_alone_or_in_bulk(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    acme = await make_tenant("acme", token_role="admin")
    async with worker_factory([hopeless, doomed]):
        permanent = await enqueue_job("hopeless", tenant_id=acme.tenant_id, triggered_by="tester")
        other = await enqueue_job("doomed", tenant_id=acme.tenant_id, triggered_by="tester")
        await wait_for(acme.tenant_id, permanent.id or 0, {"failed"})
        await wait_for(acme.tenant_id, other.id or 0, {"failed"})
        refused = await client.post(f"/api/v1/jobs/{permanent.id}/retry", headers=bearer(acme.token))
        assert refused.status_code == 409
        assert "the window 2024-13-01 does not exist" in refused.json()["error"]["message"]
        assert "fail the same way" in refused.json()["error"]["message"]
        stale = await client.post("/api/v1/jobs/retry-failed", headers=bearer(acme.token), json={"expected": 2})
        assert stale.status_code == 409 and "1 failed runs" in stale.json()["error"]["message"]
        ok = await client.post("/api/v1/jobs/retry-failed", headers=bearer(acme.token), json={"expected": 1})
        assert ok.status_code == 200 and len(ok.json()["job_ids"]) == 1
        await settled(acme.tenant_id)
    async with session_scope() as session:
        retried = await job_queries.get_job_run(session, tenant_id=acme.tenant_id, job_run_id=ok.json()["job_ids"][0])
    assert retried.retry_of == other.id


async def test_cancel_queued_and_running_runs(client: httpx.AsyncClient, worker_factory: Any) -> None:
    acme = await make_tenant("acme", token_role="admin")
    queued = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="t", defer_seconds=60)
    answer = await client.post(f"/api/v1/jobs/{queued.id}/cancel", headers=bearer(acme.token))
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    async with worker_factory():
        long = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="t", params={"delay": 8})
        await wait_for(acme.tenant_id, long.id or 0, {"running"})
        await asyncio.sleep(0.3)
        assert (await client.post(f"/api/v1/jobs/{long.id}/cancel", headers=bearer(acme.token))).status_code == 200
        done = await wait_for(acme.tenant_id, long.id or 0, {"cancelled", "failed", "succeeded"}, within=5)
        await asyncio.sleep(0.5)  # the aborted deferred ping is dropped by the worker, never started
    assert done.status == "cancelled" and done.error == "cancelled by request"
    async with session_scope() as session:
        first = await job_queries.get_job_run(session, tenant_id=acme.tenant_id, job_run_id=queued.id or 0)
    assert first.status == "cancelled" and first.attempts == 0
    again = await client.post(f"/api/v1/jobs/{queued.id}/cancel", headers=bearer(acme.token))
    assert again.status_code == 409 and "only queued" in again.json()["error"]["message"]


async def test_redis_flushed_history_intact_and_lost_queued_runs_are_swept(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    acme = await make_tenant("acme")
    async with worker_factory():
        done = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="t")
        await wait_for(acme.tenant_id, done.id or 0, {"succeeded"})
    stranded = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="t", defer_seconds=600)
    await get_redis().flushdb()
    listed = await client.get("/api/v1/jobs", headers=bearer(acme.token))
    assert listed.status_code == 200 and [r["status"] for r in listed.json()] == ["queued", "succeeded"]
    metrics = (await client.get("/api/v1/jobs/metrics", headers=bearer(acme.token))).json()
    assert metrics["queue_depth"] == 0 and metrics["workers"] == []
    async with session_scope() as session:  # pretend the grace period passed
        run = await job_queries.get_job_run(session, tenant_id=acme.tenant_id, job_run_id=stranded.id or 0)
        run.enqueued_at = run.enqueued_at.replace(year=run.enqueued_at.year - 1)
        session.add(run)
    assert await sweep_lost_runs({"redis": get_redis()}) == {"lost": 1, "requeued": 1}
    async with worker_factory():
        await settled(acme.tenant_id)
    statuses = [r["status"] for r in (await client.get("/api/v1/jobs", headers=bearer(acme.token))).json()]
    assert statuses == ["succeeded", "lost", "succeeded"]


async def test_roles_viewers_read_analysts_retry_admins_cancel(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme")
    viewer, analyst = await token_for(acme.tenant_id, "viewer"), await token_for(acme.tenant_id, "analyst")
    run = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="t", defer_seconds=60)
    assert (await client.get(f"/api/v1/jobs/{run.id}", headers=bearer(viewer))).status_code == 200
    for token, action in ((viewer, "retry"), (viewer, "cancel"), (analyst, "cancel")):
        refused = await client.post(f"/api/v1/jobs/{run.id}/{action}", headers=bearer(token))
        assert refused.status_code == 403, (action, refused.text)
        assert refused.json()["error"]["code"] == "forbidden"
    assert (await client.post("/api/v1/jobs/retry-failed", headers=bearer(analyst), json={})).status_code == 403
    assert (await client.post(f"/api/v1/jobs/{run.id}/retry", headers=bearer(analyst))).status_code == 409


async def test_tenant_b_sees_none_of_tenant_a_runs_or_metrics(client: httpx.AsyncClient, worker_factory: Any) -> None:
    a, b = await make_tenant("alpha", token_role="admin"), await make_tenant("bravo", token_role="admin")
    async with worker_factory():
        run = await enqueue_job("ping", tenant_id=a.tenant_id, triggered_by="t")
        await wait_for(a.tenant_id, run.id or 0, {"succeeded"})
    mine = (await client.get("/api/v1/jobs/metrics", headers=bearer(a.token))).json()
    theirs = (await client.get("/api/v1/jobs/metrics", headers=bearer(b.token))).json()
    assert mine["counts"]["1h"]["succeeded"] == 1 and mine["success_rate"]["24h"] == 1.0
    assert [d["name"] for d in mine["durations"]] == ["ping"]
    assert sum(theirs["counts"]["7d"].values()) == 0 and theirs["durations"] == []
    assert theirs["success_rate"]["24h"] is None
    assert (await client.get("/api/v1/jobs", headers=bearer(b.token))).json() == []
    for method, path in (("GET", f"/api/v1/jobs/{run.id}"), ("POST", f"/api/v1/jobs/{run.id}/retry"),
                         ("POST", f"/api/v1/jobs/{run.id}/cancel")):
        assert (await client.request(method, path, headers=bearer(b.token))).status_code == 404


async def test_bulk_retry_needs_the_confirmed_count(client: httpx.AsyncClient, worker_factory: Any) -> None:
    acme = await make_tenant("acme", token_role="admin")
    async with worker_factory([doomed]):
        runs = [await enqueue_job("doomed", tenant_id=acme.tenant_id, triggered_by="t") for _ in range(2)]
        for run in runs:
            await wait_for(acme.tenant_id, run.id or 0, {"failed"})
        stale = await client.post("/api/v1/jobs/retry-failed", headers=bearer(acme.token), json={"expected": 5})
        assert stale.status_code == 409 and "2 failed runs" in stale.json()["error"]["message"]
        ok = await client.post("/api/v1/jobs/retry-failed", headers=bearer(acme.token), json={"expected": 2})
        assert ok.status_code == 200 and len(ok.json()["job_ids"]) == 2
        await settled(acme.tenant_id)
    bad_filter = await client.get("/api/v1/jobs?since=yesterday", headers=bearer(acme.token))
    assert bad_filter.status_code == 422 and "ISO 8601" in bad_filter.json()["error"]["message"]
    by_trigger = await client.get("/api/v1/jobs?trigger=token:", headers=bearer(acme.token))
    assert len(by_trigger.json()) == 2


async def test_drift_run_for_a_chosen_window_reruns_detection_and_is_audited(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    acme = await make_tenant("acme")
    other = await make_tenant("other")
    async with worker_factory():
        pushed = await client.post("/api/v1/flows?format=zeek", content=CONN_LOG.read_bytes(), headers=bearer(acme.token))
        assert pushed.status_code == 202, pushed.text
        await settled(acme.tenant_id)
        snaps = (await client.get("/api/v1/snapshots", headers=bearer(acme.token))).json()
        first, last = min(s["window_start"] for s in snaps), max(s["window_end"] for s in snaps)
        body = {"window_start": first, "window_end": last}
        queued = await client.post("/api/v1/snapshots/detect", headers=bearer(acme.token), json=body)
        assert queued.status_code == 202, queued.text
        assert len(queued.json()["job_ids"]) == len(snaps)
        for run_id in queued.json()["job_ids"]:
            done = await wait_for(acme.tenant_id, run_id, {"succeeded"})
            assert done.name == "detect_drift" and done.triggered_by.startswith("token:")
        # Tenant B's range holds none of A's snapshots: nothing to run, and a clear reason.
        refused = await client.post("/api/v1/snapshots/detect", headers=bearer(other.token), json=body)
        assert refused.status_code == 422 and "no snapshot" in refused.json()["error"]["message"]
    async with session_scope() as session:
        entries = await list_audit(session, tenant_id=acme.tenant_id, action="drift.run")
    assert entries and sorted(entries[0].after["snapshots"]) == sorted(s["id"] for s in snaps)


@pytest.mark.parametrize(("body", "reason"), [
    ({"window_start": "2024-04-20T00:00:00Z", "window_end": "2024-04-19T00:00:00Z"}, "before"),
    ({"window_start": "2024-04-19T00:00:00Z", "window_end": "2999-01-01T00:00:00Z"}, "future"),
    ({"window_start": "2024-01-01T00:00:00Z", "window_end": "2024-03-01T00:00:00Z"}, "31 days"),
    ({"window_start": "yesterday", "window_end": "2024-03-01T00:00:00Z"}, "ISO 8601"),
])
async def test_drift_run_dates_are_validated(client: httpx.AsyncClient, body: dict[str, str], reason: str) -> None:
    acme = await make_tenant("acme")
    answer = await client.post("/api/v1/snapshots/detect", headers=bearer(acme.token), json=body)
    assert answer.status_code == 422 and reason in answer.json()["error"]["message"]


async def test_runs_sort_orders_and_rejects_unknown_sorts(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme", token_role="viewer")
    names = ["zeta", "alpha", "mid"]
    async with session_scope() as session:
        for index, name in enumerate(names):
            await job_queries.create_job_run(session, tenant_id=acme.tenant_id, name=name, arq_job_id=f"{name}:{index}",
                                             params={}, triggered_by="tester")

    async def order(sort: str) -> list[str]:
        got = await client.get(f"/api/v1/jobs?sort={sort}", headers=bearer(acme.token))
        assert got.status_code == 200, got.text
        return [r["name"] for r in got.json()]

    assert await order("newest") == ["mid", "alpha", "zeta"]
    assert await order("oldest") == ["zeta", "alpha", "mid"]
    assert await order("name") == ["alpha", "mid", "zeta"]
    bad = await client.get("/api/v1/jobs?sort=random()", headers=bearer(acme.token))
    assert bad.status_code == 422 and "sort must be one of" in bad.json()["error"]["message"]
