"""The drift chain through a real worker: flow files → snapshots → detect_drift → ranked events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from jobs.runtime.queue import enqueue_job
from jobs.stores.snapshots import sidecar_path
from models.db import session_scope
from models.queries import graph as graph_queries
from models.queries import jobs as job_queries
from tests.builders import make_tenant
from tests.integration.drift_support import (
    BEACON,
    all_events,
    bearer,
    drain,
    pattern,
    push,
    rita_files,
    settled,
    subscribed,
)

pytestmark = pytest.mark.integration
LIVE_KEYS = {"id", "snapshot_id", "kind", "src", "dst", "dst_port", "protocol", "risk", "severity", "explanation",
             "status", "created_at", "window_start", "policy_id"}
PUBLIC_KEYS = {"id", "snapshot_id", "kind", "src", "dst", "dst_port", "protocol", "risk", "severity", "reasons",
               "explanation", "status"}


async def test_flows_become_ranked_drift_events_whatever_the_build_order(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    files = rita_files()[:4]
    async with subscribed(a.tenant_id) as pubsub, worker_factory():
        # alpha's four files race each other (windows built in any order); bravo's arrive one by one
        for path in files:
            await push(client, a.token, path)
        for path in files:
            await push(client, b.token, path)
            await settled(b.tenant_id)
        counts = await settled(a.tenant_id)
        live = [e for e in await drain(pubsub) if e["type"] == "drift.created"]
    assert counts["failed"] == 0
    assert live and all(e["tenant_id"] == a.tenant_id for e in live)
    runs = [e["data"] for e in live]
    assert all(len(r["events"]) == min(r["new"], 500) and r["truncated"] == (r["new"] > 500) for r in runs)
    assert set(next(r for r in runs if r["events"])["events"][0]) == LIVE_KEYS
    # every stored event was announced once as new (at most 500 of them per run in full)
    assert sum(r["new"] for r in runs) >= len(await all_events(a.tenant_id))
    listed = (await client.get("/api/v1/drift-events?limit=1000", headers=bearer(a.token))).json()
    assert listed and set(listed[0]) >= PUBLIC_KEYS
    assert [e["risk"] for e in listed] == sorted((e["risk"] for e in listed), reverse=True)
    assert all(e["explanation"] and e["reasons"] for e in listed)
    # periodic connections are detection's: the beacon pair is only ever new to drift, never a beacon
    assert not any(e["kind"] == "beacon" for e in listed)
    assert {e["kind"] for e in listed if (e["src"], e["dst"]) == BEACON} <= {"new_external", "new_port", "new_edge"}
    # baselines are rebuilt from the windows themselves: racing builds end where ordered ones do
    alpha = {(pattern(e), e.risk, e.status) for e in await all_events(a.tenant_id)}
    bravo = {(pattern(e), e.risk, e.status) for e in await all_events(b.tenant_id)}
    assert alpha == bravo
    async with session_scope() as session:
        snapshots = await graph_queries.list_snapshots(session, tenant_id=a.tenant_id)
        detections = await job_queries.list_job_runs(session, tenant_id=a.tenant_id, name="detect_drift", limit=500)
    assert all(sidecar_path(a.tenant_id, s.window_start).exists() for s in snapshots)
    assert {r.params["snapshot_id"] for r in detections} == {s.id for s in snapshots}
    assert all(r.status == "succeeded" for r in detections)


async def test_detecting_a_snapshot_again_updates_its_events_without_duplicates(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    async with worker_factory():
        for path in rita_files()[:3]:
            await push(client, a.token, path)
            await settled(a.tenant_id)
        before = {e.id: (e.snapshot_id, *pattern(e)) for e in await all_events(a.tenant_id)}
        sid = max(e.snapshot_id for e in await all_events(a.tenant_id))
        async with subscribed(a.tenant_id) as pubsub:
            run = await enqueue_job("detect_drift", tenant_id=a.tenant_id, triggered_by="test", key=str(sid),
                                    params={"snapshot_id": sid}, rerun_if_running=True)
            await settled(a.tenant_id)
            created = [event for event in await drain(pubsub) if event["type"] == "drift.created"]
    after = {e.id: (e.snapshot_id, *pattern(e)) for e in await all_events(a.tenant_id)}
    assert after == before and len(set(after.values())) == len(after)
    async with session_scope() as session:
        done = await job_queries.get_job_run(session, tenant_id=a.tenant_id, job_run_id=run.id or 0)
    assert done.status == "succeeded" and done.result["new"] == 0 and done.result["removed"] == 0
    assert len(created) == 1, "one drift.created per detection run"
    data = created[0]["data"]
    assert data["snapshot_id"] == sid and data["new"] == 0 and data["events"] == []
    assert data["total"] == sum(data["counts"].values()) == len(await all_events(a.tenant_id, snapshot_id=sid))
    assert (await client.get("/api/v1/drift-events", headers=bearer(b.token))).json() == []
    some = next(iter(before))
    assert (await client.get(f"/api/v1/drift-events/{some}", headers=bearer(b.token))).status_code == 404
