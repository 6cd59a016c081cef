"""Runs finished per minute by status (the Jobs page's throughput chart) and the ingest results the Sources page
reads its skip reasons from, on PostgreSQL and on SQLite (the embedded default: the demo's Jobs page failed there on
PostgreSQL's date_trunc); each tenant sees only its own (issue 21)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.db import session_scope
from models.queries import job_metrics
from models.queries import jobs as job_queries
from models.types import utcnow
from tests.builders import make_tenant

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("db")]


async def _finish(tenant_id: int, name: str, status: str, minutes_ago: float, result: dict[str, object] | None = None,
                  params: dict[str, object] | None = None) -> int:
    async with session_scope() as session:
        run = await job_queries.create_job_run(session, tenant_id=tenant_id, name=name, arq_job_id=f"{name}:{utcnow()}",
                                               params=params or {}, triggered_by="test")
        run = await job_queries.mark_job_finished(session, tenant_id=tenant_id, job_run_id=run.id or 0, status=status,
                                                  result=result)
        run.finished_at = utcnow() - timedelta(minutes=minutes_ago)
        session.add(run)
        return run.id or 0


async def test_throughput_counts_each_minute_by_final_status_for_the_tenant_only() -> None:
    a, b = await make_tenant("tp-a"), await make_tenant("tp-b")
    for status, minutes_ago in [("succeeded", 0), ("succeeded", 0), ("failed", 0), ("succeeded", 5), ("lost", 5),
                                ("succeeded", 90)]:
        await _finish(a.tenant_id, "ping", status, minutes_ago)
    await _finish(b.tenant_id, "ping", "failed", 0)
    now = utcnow()
    async with session_scope() as session:
        mine = await job_metrics.throughput(session, tenant_id=a.tenant_id, now=now)
        theirs = await job_metrics.throughput(session, tenant_id=b.tenant_id, now=now)
    assert len(mine["minutes"]) == 60 and mine["minutes"] == sorted(mine["minutes"])
    assert mine["minutes"][-1] == int(now.replace(second=0, microsecond=0).timestamp())
    assert (mine["succeeded"][-1], mine["failed"][-1]) == (2, 1)
    assert (mine["succeeded"][-6], mine["lost"][-6]) == (1, 1)
    assert sum(mine["succeeded"]) == 3  # the run of 90 minutes ago is outside the hour
    assert sum(theirs["failed"]) == 1 and sum(theirs["succeeded"]) == 0


async def test_ingest_results_are_the_newest_succeeded_parse_of_each_upload_of_the_tenant() -> None:
    a, b = await make_tenant("ir-a"), await make_tenant("ir-b")
    await _finish(a.tenant_id, "ingest_flows", "succeeded", 3, result={"upload_id": 7, "skip_reasons": {"x": 1}})
    await _finish(a.tenant_id, "ingest_flows", "succeeded", 1, result={"upload_id": 7, "skip_reasons": {"x": 2}})
    await _finish(a.tenant_id, "ingest_flows", "failed", 0, result={"upload_id": 8})
    await _finish(b.tenant_id, "ingest_flows", "succeeded", 0, result={"upload_id": 9, "skip_reasons": {"y": 5}})
    async with session_scope() as session:
        found = await job_queries.ingest_results(session, tenant_id=a.tenant_id, upload_ids=[7, 8, 9])
    assert list(found) == [7] and found[7]["skip_reasons"] == {"x": 2}
