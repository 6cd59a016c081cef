"""A job run's whole life through a real worker on real Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import pytest
from arq import Retry

from jobs.runtime.connections import get_redis
from jobs.runtime.constants import events_channel
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import PermanentJobError, tracked
from models.db import session_scope
from models.queries import jobs as job_queries
from tests.builders import make_tenant

pytestmark = pytest.mark.integration


@tracked(timeout=10, max_tries=3)
async def flaky(ctx: dict[str, Any], *, tenant_id: int) -> dict[str, Any]:
    if ctx["job_try"] < 3:
        raise Retry(defer=0.2 * ctx["job_try"])
    return {"tries": ctx["job_try"]}


@tracked(timeout=10, max_tries=3, backoff=0.3)
async def shaky(ctx: dict[str, Any], *, tenant_id: int) -> dict[str, Any]:
    if ctx["job_try"] < 3:
        raise ConnectionRefusedError(f"redis at 127.0.0.1:1 refused, try {ctx['job_try']}")
    return {"tries": ctx["job_try"]}


@tracked(timeout=10, max_tries=2, backoff=0.1)
async def unreachable(ctx: dict[str, Any], *, tenant_id: int) -> dict[str, Any]:
    raise TimeoutError("the database did not answer")


@tracked(timeout=10, max_tries=3)
async def broken(ctx: dict[str, Any], *, tenant_id: int) -> dict[str, Any]:
    raise PermanentJobError("cannot reach postgresql://svc:hunter2@db:5432/x with token sg_abcdefghijklmnop")


async def _wait_status(tenant_id: int, run_id: int, statuses: set[str], within: float = 10) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with session_scope() as session:
            run = await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=run_id)
        if run.status in statuses:
            return run
        assert asyncio.get_running_loop().time() < deadline, f"run stuck in {run.status}"
        await asyncio.sleep(0.02)


async def _drain(pubsub: Any, quiet: float = 0.3) -> list[dict[str, Any]]:
    """Every message until the channel stays quiet (subscribe confirmations skipped)."""
    seen, loop = [], asyncio.get_running_loop()
    deadline = loop.time() + quiet
    while loop.time() < deadline:
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
        if msg is not None:
            seen.append(json.loads(msg["data"]))
            deadline = loop.time() + quiet
    await pubsub.aclose()
    return seen


async def test_ping_goes_queued_running_succeeded_and_publishes_each_step(worker_factory: Any) -> None:
    acme = await make_tenant("acme")
    pubsub = get_redis().pubsub()
    await pubsub.subscribe(events_channel(acme.tenant_id))
    async with worker_factory():
        run = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="tester", params={"delay": 0.1})
        assert run.status == "queued"
        done = await _wait_status(acme.tenant_id, run.id, {"succeeded", "failed"})
    assert done.status == "succeeded"
    assert done.attempts == 1 and done.triggered_by == "tester"
    assert done.result["pong"] is True and done.started_at <= done.finished_at
    seen = await _drain(pubsub)
    # Pub/sub channels span Redis databases: other test runs on this Redis may share the tenant id.
    statuses = [e["data"]["status"] for e in seen if e["type"] == "job.updated" and e["data"]["id"] == run.id]
    assert statuses[0] == "queued" and statuses[1] == "running" and statuses[-1] == "succeeded"
    assert all(e["tenant_id"] == acme.tenant_id for e in seen)


async def test_transient_failures_retry_then_succeed_with_attempts_counted(worker_factory: Any) -> None:
    acme = await make_tenant("acme")
    async with worker_factory([flaky]):
        run = await enqueue_job("flaky", tenant_id=acme.tenant_id, triggered_by="tester")
        done = await _wait_status(acme.tenant_id, run.id, {"succeeded", "failed"})
    assert done.status == "succeeded" and done.attempts == 3
    assert [a["attempt"] for a in done.attempt_errors] == [1, 2]
    assert done.error == ""
    # The defers grow (0.2 s, then 0.4 s); lower bounds only, so a loaded machine cannot fail them.
    first, second = (datetime.fromisoformat(a["at"]) for a in done.attempt_errors)
    assert (second - first).total_seconds() >= 0.2
    assert (done.finished_at - second).total_seconds() >= 0.4


async def test_infrastructure_errors_retry_with_exponential_backoff(worker_factory: Any) -> None:
    acme = await make_tenant("acme")
    async with worker_factory([shaky, unreachable]):
        run = await enqueue_job("shaky", tenant_id=acme.tenant_id, triggered_by="tester")
        gone = await enqueue_job("unreachable", tenant_id=acme.tenant_id, triggered_by="tester")
        done = await _wait_status(acme.tenant_id, run.id, {"succeeded", "failed"})
        failed = await _wait_status(acme.tenant_id, gone.id, {"failed"})
    assert done.status == "succeeded" and done.attempts == 3
    assert [a["attempt"] for a in done.attempt_errors] == [1, 2]
    assert "ConnectionRefusedError: redis at 127.0.0.1:1 refused, try 1" in done.attempt_errors[0]["error"]
    # backoff 0.3 s then 0.6 s (lower bounds only: a loaded machine only makes them longer)
    first, second = (datetime.fromisoformat(a["at"]) for a in done.attempt_errors)
    assert (second - first).total_seconds() >= 0.3
    assert (done.finished_at - second).total_seconds() >= 0.6
    # out of tries: failed, with the cause kept
    assert failed.attempts == 2 and "TimeoutError: the database did not answer" in failed.error


async def test_permanent_failure_keeps_a_redacted_message(worker_factory: Any) -> None:
    acme = await make_tenant("acme")
    async with worker_factory([broken]):
        run = await enqueue_job("broken", tenant_id=acme.tenant_id, triggered_by="tester")
        done = await _wait_status(acme.tenant_id, run.id, {"failed"})
    assert done.attempts == 1
    assert "PermanentJobError: cannot reach" in done.error
    assert "hunter2" not in done.error and "sg_abcdefghijklmnop" not in done.error


async def test_same_job_key_is_not_queued_twice(app_ctx: str) -> None:
    acme = await make_tenant("acme")
    first = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="t", key="same")
    second = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="t", key="same")
    assert first.id == second.id
    async with session_scope() as session:
        runs = await job_queries.list_job_runs(session, tenant_id=acme.tenant_id)
    assert len(runs) == 1


async def test_worker_polls_fast_enough_for_live_pages(worker_factory: Any) -> None:
    """ARQ's default 0.5 s poll would add ~0.3 s to every job; ours is configured at 20 ms. The latency
    itself is measured by tests/bench/bench_jobs.py (docs/benchmarks.md), not by a timed test."""
    from jobs.worker import WorkerSettings

    assert WorkerSettings.poll_delay <= 0.05
    acme = await make_tenant("acme")
    async with worker_factory():
        await asyncio.sleep(0.2)  # let the worker reach its poll loop
        run = await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="t")
        done = await _wait_status(acme.tenant_id, run.id, {"succeeded"})
    assert done.started_at > done.enqueued_at
