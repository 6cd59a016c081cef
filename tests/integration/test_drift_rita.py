"""Drift detection on RITA's real 3-day capture (72 hourly Zeek files): the chain runs on real files, and drift
leaves the publisher's beacon to detection (decision 5 of docs/detection.md; detection's own test finds it).

The jobs run as functions in the test's loop (a worker would also detect every one of the 73
windows, which takes minutes); each is called with the job_run its producer queued, so the
bookkeeping is the real one: uploads → ingest_flows → build_snapshot (all windows, in order) →
detect_drift for the last window of each day, its run queued as `detect_incidents` queues it (build_snapshot
queues `detect_incidents`, not `detect_drift`; detection's own chain test runs that step).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from jobs.runtime.connections import get_arq, get_redis
from jobs.runtime.queue import enqueue_job
from jobs.runtime.uploads import file_chunks, receive_upload
from jobs.tasks.drift import detect_drift
from jobs.tasks.ingest import ingest_flows
from jobs.tasks.snapshot import build_snapshot
from models.db import session_scope
from models.queries import jobs as job_queries
from tests.builders import make_tenant
from tests.integration.drift_support import BEACON, all_events, rita_files

pytestmark = pytest.mark.integration


@pytest.fixture
def data_dir(app_ctx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from models.settings import get_settings

    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return tmp_path / "data"


def job_ctx() -> dict[str, Any]:
    return {"redis": get_redis(), "job_try": 1, "job_id": f"test:{uuid.uuid4().hex}"}


async def ingest_all(tenant_id: int, files: list[Path]) -> dict[str, int]:
    """Upload and parse every file (a few at a time); returns the queued build run of each window."""
    gate = asyncio.Semaphore(6)
    await get_arq()  # made once up front: concurrent first calls would each open a pool (jobs.runtime.connections)

    async def ingest(path: Path) -> list[int]:
        async with gate:
            upload, run = await receive_upload(file_chunks(path), tenant_id=tenant_id, filename=path.name,
                                               fmt="zeek", created_by="test")
            result = await ingest_flows(job_ctx(), tenant_id=tenant_id, job_run_id=run.id, upload_id=upload.id)
        assert result["rejected"] == 0
        return list(result["snapshot_jobs"])

    run_ids = {run_id for runs in await asyncio.gather(*(ingest(p) for p in files)) for run_id in runs}
    async with session_scope() as session:
        queued = [await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=i) for i in run_ids]
    # a window's build run is shared by every file touching it while it waits in the queue
    return {run.params["window_start"]: run.id or 0 for run in queued}


async def build_all(tenant_id: int, builds: dict[str, int]) -> dict[str, int]:
    """Build every window (a few at a time); returns each window's snapshot id."""
    gate = asyncio.Semaphore(6)

    async def build(window: str) -> tuple[str, int]:
        async with gate:
            built = await build_snapshot(job_ctx(), tenant_id=tenant_id, job_run_id=builds[window], window_start=window)
        return window, int(built["snapshot_id"])

    return dict(await asyncio.gather(*(build(w) for w in sorted(builds))))


async def test_drift_runs_every_day_and_leaves_the_periodic_http_client_to_detection(data_dir: Path) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    builds = await ingest_all(a.tenant_id, rita_files())
    assert len(builds) == 73  # 72 hours plus the hour before the first file, where long connections began
    snapshots = await build_all(a.tenant_id, builds)
    ctx = job_ctx()
    for day in ("2024-04-19", "2024-04-20", "2024-04-21"):
        snapshot_id = snapshots[f"{day}T23:00:00+00:00"]
        queued = await enqueue_job("detect_drift", tenant_id=a.tenant_id, triggered_by="test", key=str(snapshot_id),
                                   params={"snapshot_id": snapshot_id}, rerun_if_running=True)
        run_id = queued.id or 0
        result = await detect_drift(ctx, tenant_id=a.tenant_id, job_run_id=run_id, snapshot_id=snapshot_id)
        assert result["baseline_windows"] == 24
        events = await all_events(a.tenant_id, snapshot_id=snapshot_id)
        assert events, day
        # the steady beacon pair is known to the baseline, and beacons are detection's
        assert not [e for e in events if e.kind == "beacon" or (e.src, e.dst) == BEACON], day
        # ICMP edges raise nothing (decision 5)
        assert not [e for e in events if e.protocol.startswith("icmp")], day
    async with session_scope() as session:
        run = await job_queries.get_job_run(session, tenant_id=a.tenant_id, job_run_id=run_id)
    assert run.name == "detect_drift" and run.status == "succeeded" and run.result["events"] > 0
    assert await all_events(b.tenant_id) == []
