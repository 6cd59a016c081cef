"""The cron fan-outs: builds of just-closed windows, and retention of flows, job runs and sessions."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from jobs.runtime.queue import enqueue_job
from jobs.tasks.schedules import JOB_HISTORY_DAYS, schedule_window_builds, window_just_closed
from models.db import session_scope
from models.graph import FlowUpload
from models.ops import JobRun
from models.queries import jobs as job_queries
from models.queries import tenancy
from models.settings import get_settings
from models.tenancy import UserSession
from models.types import utcnow
from tests.builders import make_tenant

pytestmark = pytest.mark.integration


def _partition(tenant_id: int, moment: datetime, *, received: datetime | None = None) -> Path:
    """A flow partition of `moment`'s flows, written at `received` (by default when its flows happened)."""
    epoch = int(moment.timestamp()) // 300 * 300
    folder = get_settings().flow_dir / str(tenant_id) / f"window={epoch}"
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / "partial-1-csv-0-edges.parquet"
    part.write_bytes(b"PAR1")
    stamp = (received or moment).timestamp()
    os.utime(part, (stamp, stamp))
    return folder


async def _run_retention(worker_factory: Any, tenant_id: int) -> JobRun:
    """Queue `cleanup_retention` for the tenant and wait for it to end."""
    async with worker_factory():
        run = await enqueue_job("cleanup_retention", tenant_id=tenant_id, triggered_by="tester")
        for _ in range(200):
            async with session_scope() as session:
                done = await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=run.id or 0)
            if done.status in ("succeeded", "failed"):
                break
            await asyncio.sleep(0.05)
    return done


@pytest.fixture
def data_dir(app_ctx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return tmp_path / "data"


def test_window_just_closed_only_in_the_first_five_minutes_after_a_boundary() -> None:
    hour = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert window_just_closed(hour + timedelta(seconds=5), 3600) == hour - timedelta(hours=1)
    assert window_just_closed(hour + timedelta(minutes=4, seconds=59), 3600) == hour - timedelta(hours=1)
    assert window_just_closed(hour + timedelta(minutes=5), 3600) is None
    assert window_just_closed(hour + timedelta(minutes=10, seconds=5), 300) == hour + timedelta(minutes=5)


async def test_window_builds_are_queued_only_for_tenants_with_flows_in_the_closed_window(data_dir: Path) -> None:
    busy, quiet = await make_tenant("busy"), await make_tenant("quiet")
    async with session_scope() as session:
        await tenancy.set_window_seconds(session, tenant_id=busy.tenant_id, seconds=300)
        await tenancy.set_window_seconds(session, tenant_id=quiet.tenant_id, seconds=300)
    closed = window_just_closed(utcnow(), 300)
    assert closed is not None  # with 5-minute windows every moment is within 5 minutes of a boundary
    _partition(busy.tenant_id, closed + timedelta(seconds=10))
    result = await schedule_window_builds({})
    assert result == {"tenants": 2, "queued": 1}
    async with session_scope() as session:
        runs = await job_queries.list_job_runs(session, tenant_id=busy.tenant_id, name="build_snapshot")
        none = await job_queries.list_job_runs(session, tenant_id=quiet.tenant_id, name="build_snapshot")
    assert len(runs) == 1 and none == []
    assert runs[0].params == {"window_start": closed.isoformat()} and runs[0].triggered_by == "schedule: window closed"
    # Running again in the same period queues nothing new: the key is the window.
    await schedule_window_builds({})
    async with session_scope() as session:
        assert len(await job_queries.list_job_runs(session, tenant_id=busy.tenant_id, name="build_snapshot")) == 1


async def test_retention_removes_old_flows_runs_and_sessions_and_keeps_recent_ones(
    data_dir: Path, worker_factory: Any
) -> None:
    acme, other = await make_tenant("acme"), await make_tenant("other")
    now = utcnow()
    old_part = _partition(acme.tenant_id, now - timedelta(days=40))
    new_part = _partition(acme.tenant_id, now - timedelta(days=2))
    imported = _partition(acme.tenant_id, now - timedelta(days=400), received=now - timedelta(days=1))
    others_old = _partition(other.tenant_id, now - timedelta(days=40))
    async with session_scope() as session:
        user = await tenancy.authenticate(session, email=acme.admin_email, password=acme.password)
        assert user is not None
        for index, (age, status) in enumerate([(JOB_HISTORY_DAYS + 5, "succeeded"), (JOB_HISTORY_DAYS + 5, "running"),
                                                (3, "failed")]):
            session.add(JobRun(tenant_id=acme.tenant_id, name="ping", arq_job_id=f"ping:{index}", status=status,
                               enqueued_at=now - timedelta(days=age), triggered_by="tester"))
        session.add(UserSession(id="expired", tenant_id=acme.tenant_id, user_id=user.id or 0,
                                expires_at=now - timedelta(minutes=1)))
        session.add(UserSession(id="live", tenant_id=acme.tenant_id, user_id=user.id or 0,
                                expires_at=now + timedelta(minutes=30)))
    done = await _run_retention(worker_factory, acme.tenant_id)
    assert done.status == "succeeded", done.error
    assert done.result["flow_partitions"] == 1 and done.result["job_runs"] == 1 and done.result["sessions"] == 1
    assert not old_part.exists() and new_part.exists() and others_old.exists()
    assert imported.exists()  # last year's capture imported yesterday is kept for its retention from yesterday
    async with session_scope() as session:
        left = await job_queries.list_job_runs(session, tenant_id=acme.tenant_id, limit=50)
        sessions = {s.id for s in await session.exec(select(UserSession))}
    assert sorted(r.status for r in left if r.name == "ping") == ["failed", "running"]
    assert sessions == {"live"}


async def test_retention_removes_raw_upload_files_past_retention_and_keeps_their_rows(
    data_dir: Path, worker_factory: Any
) -> None:
    acme, other = await make_tenant("acme"), await make_tenant("other")
    now = utcnow()
    files: dict[str, Path] = {}
    async with session_scope() as session:
        for name, tenant_id, age, status in [("old", acme.tenant_id, 40, "ingested"), ("new", acme.tenant_id, 2, "ingested"),
                                             ("old-busy", acme.tenant_id, 40, "received"),
                                             ("others", other.tenant_id, 40, "ingested")]:
            path = get_settings().upload_dir / str(tenant_id) / f"upload-{name}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"flows")
            files[name] = path
            session.add(FlowUpload(tenant_id=tenant_id, filename=name, size_bytes=5, status=status,
                                   stored_path=str(path), created_at=now - timedelta(days=age)))
    done = await _run_retention(worker_factory, acme.tenant_id)
    assert done.status == "succeeded", done.error
    assert done.result["upload_files"] == 1
    assert not files["old"].exists()
    assert files["new"].exists() and files["old-busy"].exists() and files["others"].exists()
    async with session_scope() as session:
        rows = {u.filename: u for u in await session.exec(select(FlowUpload))}
    assert rows["old"].stored_path == "" and rows["old"].status == "ingested"  # the record and its counts stay
    assert rows["new"].stored_path == str(files["new"])


async def test_retention_store_work_leaves_the_worker_event_loop_free(
    data_dir: Path, worker_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing and deleting a bucket's partitions blocks; on the worker's loop it froze every other job of the
    worker for 2 minutes (seen in the 30-minute scaling run, where the sweeper then judged a started ingest lost)."""
    acme = await make_tenant("acme")

    def slow_expiry(tenant_id: int, before: datetime, *, received_before: datetime) -> int:
        time.sleep(1.0)  # a slow bucket listing
        return 0

    monkeypatch.setattr("jobs.tasks.schedules.expire_flow_partitions", slow_expiry)
    gaps: list[float] = []

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        done = await _run_retention(worker_factory, acme.tenant_id)
    finally:
        ticker.cancel()
    assert done.status == "succeeded", done.error
    assert gaps and max(gaps) < 0.5, f"the event loop stalled for {max(gaps):.2f} s"
