"""`detect_incidents` between `build_snapshot` and `detect_drift`: RITA's first day uploaded through the real
worker becomes incidents (its beacon among them), a re-run changes nothing, windows detected out of order are
caught up in order, a late window is re-run alone, and each tenant sees only its own incidents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from jobs.runtime.connections import get_redis
from jobs.runtime.queue import enqueue_job
from jobs.runtime.uploads import file_chunks, receive_upload
from jobs.stores.detection import load_meta, load_state, state_dir
from jobs.tasks.detect import detect_incidents
from jobs.tasks.ingest import ingest_flows
from jobs.tasks.snapshot import build_snapshot
from models.db import session_scope
from models.incidents import Incident
from models.queries import graph as graph_queries
from models.queries import incidents as incident_queries
from models.queries import jobs as job_queries
from models.queries import tenancy
from tests.builders import make_tenant, settled
from tests.integration.drift_support import BEACON, RITA, all_events, drain, subscribed

pytestmark = pytest.mark.integration
SENSOR = BEACON[1]
DAY_ONE = RITA / "2024-04-19"


@pytest.fixture
def data_dir(app_ctx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from models.settings import get_settings

    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return tmp_path / "data"


def day_one(hours: range = range(24)) -> list[Path]:
    if not DAY_ONE.is_dir():
        pytest.skip(f"the RITA capture is not in {RITA} (../shared/data is absent)")
    files = sorted(DAY_ONE.glob("conn.*.log.gz"))
    assert len(files) == 24, f"expected RITA's 24 hourly files of 2024-04-19 in {DAY_ONE}"
    return [files[h] for h in hours]


async def set_sensors(tenant_id: int, sensors: list[str]) -> None:
    async with session_scope() as session:
        tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
        tenant.settings = {**tenant.settings, "sensors": sensors}
        session.add(tenant)


async def incidents_of(tenant_id: int) -> list[Incident]:
    async with session_scope() as session:
        rows, total = await incident_queries.list_incidents(session, tenant_id=tenant_id, limit=1000)
    assert len(rows) == total
    return rows


async def runs_of(tenant_id: int, name: str) -> list[Any]:
    async with session_scope() as session:
        runs = await job_queries.list_job_runs(session, tenant_id=tenant_id, limit=1000, sort="oldest")
    return [run for run in runs if run.name == name]


def job_ctx() -> dict[str, Any]:
    return {"redis": get_redis(), "job_try": 1, "job_id": f"test:{uuid.uuid4().hex}"}


async def test_rita_day_one_through_the_worker_becomes_incidents_with_its_beacon(data_dir: Path,
                                                                                 worker_factory: Any) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    await set_sensors(a.tenant_id, [SENSOR])
    async with worker_factory():
        for path in day_one():
            await receive_upload(file_chunks(path), tenant_id=a.tenant_id, filename=path.name, fmt="zeek",
                                 created_by="test")
        for path in day_one(range(2)):
            await receive_upload(file_chunks(path), tenant_id=b.tenant_id, filename=path.name, fmt="zeek",
                                 created_by="test")
        counts = await settled(a.tenant_id, within=600)
        assert counts["failed"] == 0, counts
        await settled(b.tenant_id, within=120)
    detections = await runs_of(a.tenant_id, "detect_incidents")
    drifts = await runs_of(a.tenant_id, "detect_drift")
    assert len(detections) >= 25 and all(run.status == "succeeded" for run in detections)
    # every detection queued its window's drift
    assert {run.params["snapshot_id"] for run in drifts} >= {run.params["snapshot_id"] for run in detections}
    done = [run.result for run in detections if not run.result.get("note")]
    assert sum(r["windows"] for r in done) == 25  # 24 hours and the hour before, where long connections began
    assert max(sum(r["seconds"].values()) for r in done) < 30

    mine = await incidents_of(a.tenant_id)
    assert 0 < len(mine) <= 50 and not any(i.severity == "critical" for i in mine)
    # drift folds its own events too: its kinds are incidents beside detection's
    from_drift = [i for i in mine if i.kind not in ("scan", "brute_force", "intrusion", "beacon")]
    assert from_drift and sum(run.result["incidents_new"] for run in drifts if run.status == "succeeded") > 0
    async with session_scope() as session:
        linked, _ = await incident_queries.incident_events(session, tenant_id=a.tenant_id,
                                                           incident_id=from_drift[0].id or 0)
    assert linked and {e.origin for e in linked} == {"drift"}
    entity = f"{BEACON[0]} → {BEACON[1]}"
    [beacon] = [i for i in mine if i.kind == "beacon" and i.entity == entity]
    assert (beacon.service, beacon.direction, beacon.status) == ("80/tcp", "inbound", "open")
    assert "every" in beacon.summary and "±" in beacon.summary
    assert beacon.id in [i.id for i in mine[:10]]
    async with session_scope() as session:
        events, total = await incident_queries.incident_events(session, tenant_id=a.tenant_id,
                                                               incident_id=beacon.id or 0)
    assert total == beacon.events >= 1 and {(e.kind, e.src, e.dst, e.origin) for e in events} == {
        ("beacon", *BEACON, "detect")}
    meta = load_meta(a.tenant_id)
    assert meta.window_end == datetime(2024, 4, 20, tzinfo=UTC).timestamp() and len(meta.windows) == 25

    # tenants apart: bravo's two hours are its own, none of alpha's incidents or events reach it
    theirs = await incidents_of(b.tenant_id)
    assert {i.id for i in theirs}.isdisjoint({i.id for i in mine})
    assert not [e for e in await all_events(b.tenant_id) if e.src == BEACON[0] and e.kind == "beacon"]
    assert load_meta(b.tenant_id).window_end == datetime(2024, 4, 19, 2, tzinfo=UTC).timestamp()
    assert state_dir(a.tenant_id) != state_dir(b.tenant_id)
    async with session_scope() as session:
        with pytest.raises(Exception, match="not found"):
            await incident_queries.get_incident(session, tenant_id=b.tenant_id, incident_id=beacon.id or 0)

    # a re-run of a detected window changes nothing
    before = [(i.id, i.events, i.attempts, i.updated_at) for i in await incidents_of(a.tenant_id)]
    events_before = len(await all_events(a.tenant_id))
    run = await enqueue_job("detect_incidents", tenant_id=a.tenant_id, triggered_by="test re-run",
                            params={"snapshot_id": detections[-1].params["snapshot_id"], "changed": False})
    result = await detect_incidents(job_ctx(), tenant_id=a.tenant_id, job_run_id=run.id,
                                    snapshot_id=detections[-1].params["snapshot_id"], changed=False)
    assert result["note"] == "already detected"
    assert [(i.id, i.events, i.attempts, i.updated_at) for i in await incidents_of(a.tenant_id)] == before
    assert len(await all_events(a.tenant_id)) == events_before


async def build_windows(tenant_id: int, files: list[Path]) -> dict[str, int]:
    """Ingest files in the test's loop (no worker); returns each window's build run."""
    builds: dict[str, int] = {}
    for path in files:
        upload, run = await receive_upload(file_chunks(path), tenant_id=tenant_id, filename=path.name, fmt="zeek",
                                           created_by="test")
        result = await ingest_flows(job_ctx(), tenant_id=tenant_id, job_run_id=run.id, upload_id=upload.id)
        async with session_scope() as session:
            for run_id in result["snapshot_jobs"]:
                queued = await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=run_id)
                builds[queued.params["window_start"]] = run_id
    return builds


async def build(tenant_id: int, builds: dict[str, int], window: str) -> tuple[int, int]:
    """Build one window in the test's loop; returns its snapshot id and the detection run it queued."""
    result = await build_snapshot(job_ctx(), tenant_id=tenant_id, job_run_id=builds[window], window_start=window)
    return result["snapshot_id"], result["detect_jobs"][0]


async def test_windows_detected_out_of_order_are_caught_up_and_a_late_window_reruns_alone(data_dir: Path) -> None:
    a = await make_tenant("alpha")
    await set_sensors(a.tenant_id, [SENSOR])
    hours = [(datetime(2024, 4, 19, tzinfo=UTC) + timedelta(hours=h)).isoformat() for h in range(-1, 4)]
    builds = await build_windows(a.tenant_id, day_one(range(4)))
    assert sorted(builds) == hours
    built = {window: await build(a.tenant_id, builds, window) for window in hours}
    # the newest window's job runs first: it detects the four windows before it, oldest first
    last_snapshot, last_run = built[hours[-1]]
    async with subscribed(a.tenant_id) as channel:
        first = await detect_incidents(job_ctx(), tenant_id=a.tenant_id, job_run_id=last_run,
                                       snapshot_id=last_snapshot, changed=True)
        published = await drain(channel)
    assert first["windows"] == 5 and first["caught_up"] == hours[:-1] and first["incidents_new"] > 0
    assert set(first["seconds"]) >= {"load", "read", "detect", "fold", "save", "publish"}
    assert first["drift_jobs"]
    changed = [i for e in published if e["type"] == "incident.changed" for i in e["data"]["incident_ids"]]
    assert set(changed) == {i.id for i in await incidents_of(a.tenant_id)}
    # the earlier windows' own jobs find their windows done
    for window in hours[:-1]:
        snapshot_id, run_id = built[window]
        again = await detect_incidents(job_ctx(), tenant_id=a.tenant_id, job_run_id=run_id,
                                       snapshot_id=snapshot_id, changed=True)
        assert again["note"] == "already detected" and again["drift_jobs"]
    end = load_meta(a.tenant_id).window_end
    assert end == datetime(2024, 4, 19, 3, tzinfo=UTC).timestamp() + 3600

    # a late file for hour 1 rebuilds it: its window is re-run alone and the state keeps its end
    incidents = {i.id: i.events for i in await incidents_of(a.tenant_id)}
    window = hours[2]
    late_file = data_dir.parent / "late.csv"
    late_file.write_text("ts_start,src_ip,src_port,dst_ip,dst_port,protocol,bytes,packets\n"
                         f"{window},10.9.9.9,40001,192.0.2.80,443,tcp,900,6\n"
                         f"{window[:14]}30:00+00:00,10.9.9.9,40002,192.0.2.80,443,tcp,900,6\n")
    upload, run = await receive_upload(file_chunks(late_file), tenant_id=a.tenant_id, filename="late.csv",
                                       fmt="csv", created_by="test")
    ingested = await ingest_flows(job_ctx(), tenant_id=a.tenant_id, job_run_id=run.id, upload_id=upload.id)
    [build_run] = ingested["snapshot_jobs"]
    # the tables are installed; 192.0.2.80 is documentation space and 10.9.9.9 private: nothing to enrich
    assert ingested["enrichment"] == {"addresses": 0, "missing": None}
    snapshot_id, run_id = await build(a.tenant_id, {window: build_run}, window)
    async with session_scope() as session:
        row = await graph_queries.get_snapshot(session, tenant_id=a.tenant_id, snapshot_id=snapshot_id)
    rerun = await detect_incidents(job_ctx(), tenant_id=a.tenant_id, job_run_id=run_id, snapshot_id=snapshot_id,
                                   changed=True)
    assert rerun["windows"] == 1 and rerun["late"] is True and rerun["caught_up"] == []
    meta = load_meta(a.tenant_id)
    assert meta.window_end == end and meta.windows[str(int(row.window_start.timestamp()))] == (
        row.built_at.isoformat() if row.built_at else "")
    state, _ = load_state(a.tenant_id, until=end)
    assert state.beacon_history is not None
    assert state.beacon_history.filter(pl.col("src_ip") == "10.9.9.9").height == 2
    # the window's connections again, plus two: the same findings, stored already, so nothing folds twice
    assert rerun["events_new"] == 0
    assert {i.id: i.events for i in await incidents_of(a.tenant_id)} == incidents
