"""The real Zeek sample through the REST door, a worker, snapshots and drift, with the store in a local folder and
in an S3-compatible bucket (moto's server): the same outcome, and with a bucket nothing stays on the web's disk, so
a worker on another machine reads what the web received."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from jobs.stores.objects import get_store
from jobs.stores.snapshots import sidecar_key
from models.db import session_scope
from models.queries import graph as graph_queries
from models.queries import jobs as job_queries
from tests.builders import make_tenant, settled
from tests.integration.drift_support import all_events, push, rita_files
from tests.s3server import MotoServer, use_bucket

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", ["local", "s3"])
async def test_zeek_sample_ingests_builds_and_drifts_through_the_store(
    backend: str, client: httpx.AsyncClient, worker_factory: Any, request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    if backend == "s3":
        server: MotoServer = request.getfixturevalue("moto_s3")
        url = use_bucket(monkeypatch, server)
    tenant = await make_tenant("alpha")
    files = rita_files()[:3]
    async with worker_factory():
        for path in files:
            await push(client, tenant.token, path)
        counts = await settled(tenant.tenant_id, within=180)
    assert counts["failed"] == 0 and counts["succeeded"] > 0
    async with session_scope() as session:
        snapshots = await graph_queries.list_snapshots(session, tenant_id=tenant.tenant_id)
        uploads = await graph_queries.list_uploads(session, tenant_id=tenant.tenant_id)
        drift = await job_queries.list_job_runs(session, tenant_id=tenant.tenant_id, name="detect_drift", limit=100)
    assert len(uploads) == 3 and all(u.status == "ingested" and u.rows_accepted > 0 for u in uploads)
    assert len(snapshots) >= 3 and all(s.edge_count > 0 for s in snapshots)
    assert {r.params["snapshot_id"] for r in drift} == {s.id for s in snapshots}
    assert all(r.status == "succeeded" for r in drift) and await all_events(tenant.tenant_id)
    store = get_store()
    assert all(store.head(sidecar_key(tenant.tenant_id, s.window_start)) is not None for s in snapshots)
    data = tmp_path / "data"
    on_disk = sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()) if data.exists() else []
    if backend == "local":
        assert all(u.stored_path.startswith(str(data.resolve())) for u in uploads)
        assert any(name.startswith(f"flows/{tenant.tenant_id}/snapshots/") for name in on_disk)
    else:
        # every upload and flow file is in the bucket; the web's and worker's disks keep no file of the tenant
        assert all(u.stored_path.startswith(f"{url}/uploads/{tenant.tenant_id}/upload-") for u in uploads)
        assert [n for n in on_disk if f"/{tenant.tenant_id}/" in n and n.endswith((".parquet", ".json"))] == []
        assert not [n for n in on_disk if n.startswith(("uploads/", ".spool/uploads/")) and "upload-" in n]
        bucket = url.removeprefix("s3://").split("/")[0]
        keys = server.keys(bucket)
        assert sum(k.startswith(f"sg/uploads/{tenant.tenant_id}/upload-") for k in keys) == 3
        assert sum(k.startswith(f"sg/flows/{tenant.tenant_id}/snapshots/") for k in keys) == len(snapshots)
