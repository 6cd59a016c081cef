"""Engine snapshots on disk and the baseline table: written by the chain, refreshed by the schedule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlmodel import col

from dashboard.api.app import build_api
from jobs.engines.snapshot.builder import WindowFrames
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord
from jobs.runtime.connections import get_redis
from jobs.stores.snapshots import (
    frames_of_records,
    load_engine_snapshot,
    sidecar_fingerprint,
    sidecar_path,
    stage_engine_frames,
    write_engine_snapshot,
)
from jobs.tasks import snapshot as snapshots_job
from jobs.tasks.baseline import WindowLoader, schedule_baseline_refresh
from models.db import session_scope
from models.drift import Baseline
from models.queries import baselines as baseline_queries
from models.queries import graph as graph_queries
from models.queries import jobs as job_queries
from tests.builders import make_tenant
from tests.integration.drift_support import BEACON, push, rita_files, settled

pytestmark = pytest.mark.integration
T0 = datetime(2024, 4, 19, tzinfo=UTC)


@pytest.fixture
def data_dir(app_ctx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from models.settings import get_settings

    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return tmp_path / "data"


@pytest.fixture
async def client(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_api())
    async with httpx.AsyncClient(transport=transport, base_url="http://sg.test") as c:
        yield c


def records() -> tuple[list[NodeRecord], list[EdgeRecord]]:
    nodes = [NodeRecord("shop/api", "api", "workload", "shop", {"app": "api"}, ("10.0.0.4",)),
             NodeRecord("203.0.113.9", "203.0.113.9", "external")]
    edges = [EdgeRecord("shop/api", "203.0.113.9", 443, "tcp", 5000, 12, 3, 1, T0, T0 + timedelta(minutes=5),
                        (T0.timestamp() + 1.25, T0.timestamp() + 301.5)),
             EdgeRecord("shop/api", "203.0.113.9", None, "icmp", 84, 1, 1, 0, T0, T0)]
    return nodes, edges


async def test_sidecar_round_trip_is_exact_atomic_and_falls_back_to_the_database(data_dir: Path) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    nodes, edges = records()
    end = T0 + timedelta(hours=1)
    assert write_engine_snapshot(a.tenant_id, T0, end, nodes, edges) is True
    first = sidecar_fingerprint(a.tenant_id, T0)
    assert write_engine_snapshot(a.tenant_id, T0, end, nodes, edges) is False
    assert sidecar_fingerprint(a.tenant_id, T0) == first
    loaded = load_engine_snapshot(a.tenant_id, T0, end)
    assert loaded is not None and loaded.nodes == tuple(nodes) and loaded.edges == tuple(edges)
    assert load_engine_snapshot(a.tenant_id, T0, T0 + timedelta(hours=2)) is None  # other window size
    assert load_engine_snapshot(b.tenant_id, T0, end) is None
    assert not list(sidecar_path(a.tenant_id, T0).parent.glob("*.tmp"))
    async with session_scope() as session:
        row = await graph_queries.replace_snapshot(
            session, tenant_id=b.tenant_id, window_start=T0, window_end=end, source="test",
            nodes=[{"key": n.key, "name": n.name, "kind": n.kind, "namespace": n.namespace, "labels": n.labels}
                   for n in nodes],
            edges=[{"src": e.src, "dst": e.dst, "dst_port": e.dst_port, "protocol": e.protocol, "bytes": e.bytes,
                    "packets": e.packets, "flows": e.flows, "rejected": e.rejected, "first_seen": e.first_seen,
                    "last_seen": e.last_seen} for e in edges],
        )
    fallback = await WindowLoader(b.tenant_id).load(row)
    assert {e.key for e in fallback.edges} == {e.key for e in edges}
    assert all(e.conn_starts == () for e in fallback.edges) and {n.key for n in fallback.nodes} == {"shop/api",
                                                                                                     "203.0.113.9"}


async def test_a_staged_sidecar_is_invisible_until_its_rows_are_saved(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = await make_tenant("alpha")
    nodes, edges = records()
    end = T0 + timedelta(hours=1)
    node_frame, edge_frame = frames_of_records(nodes, edges)
    staged = stage_engine_frames(a.tenant_id, T0, end, node_frame, edge_frame)
    assert staged.temp.exists() and load_engine_snapshot(a.tenant_id, T0, end) is None
    assert staged.publish() is True and not staged.temp.exists()
    assert load_engine_snapshot(a.tenant_id, T0, end) is not None
    stage_engine_frames(a.tenant_id, T0, end, node_frame.head(1), edge_frame.head(1)).discard()
    loaded = load_engine_snapshot(a.tenant_id, T0, end)
    assert loaded is not None and loaded.edges == tuple(edges), "a discarded staging leaves the old sidecar"

    # build_snapshot encodes while the rows are saved: when saving fails, nothing of the new window lands.
    async def refuse(*_: Any, **__: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(graph_queries, "replace_snapshot_frames", refuse)
    later = T0 + timedelta(hours=1)
    built = WindowFrames(later, later + timedelta(hours=1), node_frame, edge_frame)
    with pytest.raises(RuntimeError, match="went away"):
        await snapshots_job._save({"job_try": 1}, a.tenant_id, built, [])
    assert load_engine_snapshot(a.tenant_id, later, later + timedelta(hours=1)) is None
    assert not list(sidecar_path(a.tenant_id, T0).parent.glob(".*.tmp"))


async def test_detection_and_the_half_hourly_schedule_keep_the_baseline_table(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    async with worker_factory():
        for path in rita_files()[:3]:
            await push(client, a.token, path)
            await settled(a.tenant_id)
        async with session_scope() as session:
            stored = await baseline_queries.list_baselines(session, tenant_id=a.tenant_id, limit=5000)
            snapshots = await graph_queries.list_snapshots(session, tenant_id=a.tenant_id)
            windows = len(snapshots)
            # "latest vs baseline" on the Graph page: the edges of the earlier windows, none of the latest's alone
            before = await baseline_queries.baseline_edges_before(session, tenant_id=a.tenant_id,
                                                                  before=snapshots[0].window_start)
            earlier: set[tuple[str, str, int | None, str]] = set()
            for row in snapshots[1:]:
                _, edges = await graph_queries.snapshot_graph(session, tenant_id=a.tenant_id, snapshot_id=row.id or 0)
                earlier |= {(e.src, e.dst, e.dst_port, e.protocol) for e in edges}
            assert {(e["src"], e["dst"], e["dst_port"], e["protocol"]) for e in before} == earlier
            assert all(1 <= e["windows"] <= windows - 1 for e in before)
            assert await baseline_queries.baseline_edges_before(
                session, tenant_id=b.tenant_id, before=snapshots[0].window_start) == []
            await session.exec(delete(Baseline).where(col(Baseline.tenant_id) == a.tenant_id))
        queued = await schedule_baseline_refresh({"redis": get_redis()})
        await settled(a.tenant_id)
        await settled(b.tenant_id)
    assert queued == {"tenants": 2}
    assert stored and max(r.windows_seen for r in stored) == windows
    beacon = [r for r in stored if (r.src, r.dst, r.dst_port) == (*BEACON, 80)]
    assert beacon and beacon[0].windows_seen == len(beacon[0].samples) and beacon[0].flows_mean > 0
    async with session_scope() as session:
        refreshed = await baseline_queries.list_baselines(session, tenant_id=a.tenant_id, limit=5000)
        theirs = await baseline_queries.list_baselines(session, tenant_id=b.tenant_id)
        runs = await job_queries.list_job_runs(session, tenant_id=a.tenant_id, name="refresh_baselines")
    assert theirs == []
    assert [r.status for r in runs] == ["succeeded"] and runs[0].triggered_by.startswith("schedule")
    assert runs[0].result == {"windows": windows, "edges": len(stored)}
    key = ("src", "dst", "dst_port", "protocol", "windows_seen", "bytes_mean", "flows_std", "samples")
    assert sorted(tuple(getattr(r, k) for k in key) for r in refreshed) == sorted(
        tuple(getattr(r, k) for k in key) for r in stored)
