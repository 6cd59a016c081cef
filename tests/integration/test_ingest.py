"""Flow files in through the API, parsed by a real worker, snapshots out; tenants stay apart."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from jobs.engines.flows import parse_file
from jobs.engines.snapshot.builder import build_frames
from models.db import session_scope
from models.queries import graph as graph_queries
from tests.builders import bearer, make_tenant
from tests.builders import settled as _settled
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.integration
HUBBLE = SHARED_DATA / "hubble" / "basic-sample-348-http-flows.json"




async def _push(client: httpx.AsyncClient, token: str, body: bytes, fmt: str = "auto") -> dict[str, Any]:
    response = await client.post(f"/api/v1/flows?format={fmt}", content=body, headers=bearer(token))
    assert response.status_code == 202, response.text
    return dict(response.json())


async def test_hubble_push_builds_a_snapshot_only_its_tenant_sees(client: httpx.AsyncClient, worker_factory: Any) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    async with worker_factory():
        pushed = await _push(client, a.token, gzip.compress(HUBBLE.read_bytes()))
        await _settled(a.tenant_id)
    upload = (await client.get(f"/api/v1/uploads/{pushed['upload_id']}", headers=bearer(a.token))).json()
    assert upload["status"] == "ingested" and upload["format"] == "hubble"
    assert upload["rows_accepted"] + upload["rows_rejected"] + upload["rows_skipped"] == 348
    snapshots = (await client.get("/api/v1/snapshots", headers=bearer(a.token))).json()
    assert len(snapshots) == 1 and snapshots[0]["status"] == "ready" and snapshots[0]["edges"] > 0
    graph = (await client.get(f"/api/v1/snapshots/{snapshots[0]['id']}/graph", headers=bearer(a.token))).json()
    names = {n["name"] for n in graph["nodes"]}
    assert {"productpage-v1", "reviews-v1", "ratings-v1"} <= names, names
    assert len(graph["edges"]) == snapshots[0]["edges"]

    assert (await client.get(f"/api/v1/uploads/{pushed['upload_id']}", headers=bearer(b.token))).status_code == 404
    assert (await client.get("/api/v1/snapshots", headers=bearer(b.token))).json() == []
    sid = snapshots[0]["id"]
    assert (await client.get(f"/api/v1/snapshots/{sid}", headers=bearer(b.token))).status_code == 404
    assert (await client.get(f"/api/v1/snapshots/{sid}/graph", headers=bearer(b.token))).status_code == 404


async def test_ingesting_the_same_window_twice_keeps_one_snapshot(client: httpx.AsyncClient, worker_factory: Any) -> None:
    a = await make_tenant("alpha")
    async with worker_factory():
        await _push(client, a.token, HUBBLE.read_bytes(), fmt="hubble")
        await _settled(a.tenant_id)
        first = (await client.get("/api/v1/snapshots", headers=bearer(a.token))).json()
        await _push(client, a.token, HUBBLE.read_bytes(), fmt="hubble")
        await _settled(a.tenant_id)
    second = (await client.get("/api/v1/snapshots", headers=bearer(a.token))).json()
    assert [s["id"] for s in second] == [s["id"] for s in first]
    # The window now holds the partials of both uploads: same edges, twice the flows.
    assert second[0]["edges"] == first[0]["edges"] and second[0]["nodes"] == first[0]["nodes"]
    parsed = parse_file(HUBBLE)
    graph = (await client.get(f"/api/v1/snapshots/{first[0]['id']}/graph", headers=bearer(a.token))).json()
    assert sum(e["flows"] for e in graph["edges"]) == 2 * parsed.accepted


async def test_frames_and_dict_rows_persist_the_same_snapshot(app_ctx: str) -> None:
    a = await make_tenant("alpha")
    (built,) = build_frames(parse_file(SHARED_DATA / "hubble" / "basic-sample-348-http-flows.json").frame).values()
    nodes = [{**row, "labels": json.loads(row["labels"])} for row in built.nodes.drop("ips").to_dicts()]
    edges = built.edges.drop("conn_starts").to_dicts()
    later = timedelta(days=1)
    async with session_scope() as session:
        by_frames = await graph_queries.replace_snapshot_frames(
            session, tenant_id=a.tenant_id, window_start=built.window_start, window_end=built.window_end,
            source="hubble", nodes=built.nodes, edges=built.edges)
        by_rows = await graph_queries.replace_snapshot(
            session, tenant_id=a.tenant_id, window_start=built.window_start + later,
            window_end=built.window_end + later, source="hubble", nodes=nodes, edges=edges)
    async with session_scope() as session:
        graphs = [await graph_queries.snapshot_graph(session, tenant_id=a.tenant_id, snapshot_id=s.id or 0)
                  for s in (by_frames, by_rows)]
    stored = [
        ([(n.key, n.name, n.kind, n.namespace, n.labels) for n in g_nodes],
         [(e.src, e.dst, e.dst_port, e.protocol, e.bytes, e.packets, e.flows, e.rejected, e.first_seen, e.last_seen)
          for e in g_edges])
        for g_nodes, g_edges in graphs
    ]
    assert stored[0] == stored[1]
    assert len(stored[0][1]) == built.edges.height > 0 and by_frames.edge_count == built.edges.height
    assert any(labels for *_, labels in stored[0][0]) and any(e[2] is not None for e in stored[0][1])


async def test_a_file_that_is_not_flows_is_rejected_with_a_reason(client: httpx.AsyncClient, worker_factory: Any) -> None:
    a = await make_tenant("alpha")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    async with worker_factory():
        pushed = await _push(client, a.token, png)
        await _settled(a.tenant_id)
    upload = (await client.get(f"/api/v1/uploads/{pushed['upload_id']}", headers=bearer(a.token))).json()
    assert upload["status"] == "rejected" and upload["reason"]
    job = (await client.get(f"/api/v1/jobs/{pushed['job_id']}", headers=bearer(a.token))).json()
    assert job["status"] == "failed" and "rejected" in job["error"]
    # a push without ?filename= is named for what it is in the run's last step, not by the stored "api-upload"
    assert job["progress_message"].startswith("parsing REST upload ") and "api-upload" not in json.dumps(job)
    assert (await client.get("/api/v1/snapshots", headers=bearer(a.token))).json() == []


async def test_a_cut_zeek_line_is_counted_with_its_line_number(client: httpx.AsyncClient, worker_factory: Any) -> None:
    a = await make_tenant("alpha")
    async with worker_factory():
        pushed = await _push(client, a.token, (SHARED_DATA / "zeek/rita-truncated/conn.log").read_bytes(), fmt="zeek")
        await _settled(a.tenant_id)
    upload = (await client.get(f"/api/v1/uploads/{pushed['upload_id']}", headers=bearer(a.token))).json()
    assert upload["status"] == "ingested"
    assert upload["rows_accepted"] == 58 and upload["rows_rejected"] == 1
    assert upload["errors"][0]["line"] == 67 and upload["errors"][0]["reason"]


async def test_wrong_format_name_and_empty_body_are_refused(client: httpx.AsyncClient) -> None:
    a = await make_tenant("alpha")
    bad = await client.post("/api/v1/flows?format=netflow", content=b"x", headers=bearer(a.token))
    assert bad.status_code == 422 and "format must be one of" in bad.json()["error"]["message"]
    empty = await client.post("/api/v1/flows", content=b"", headers=bearer(a.token))
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_file"
    async with session_scope() as session:
        assert await graph_queries.list_uploads(session, tenant_id=a.tenant_id) == []


@pytest.mark.parametrize(("start", "end", "message"), [
    ("2024-04-20T00:00:00Z", "2024-04-19T00:00:00Z", "window_start must be before window_end"),
    ("2024-04-20T00:00:00Z", "2099-01-01T00:00:00Z", "window_end is in the future"),
    ("2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", "at most 31 days"),
    ("yesterday", "2024-03-01T00:00:00Z", "is not an ISO 8601 date"),
])
async def test_build_refuses_bad_ranges(client: httpx.AsyncClient, start: str, end: str, message: str) -> None:
    a = await make_tenant("alpha")
    response = await client.post("/api/v1/snapshots/build", json={"window_start": start, "window_end": end},
                                 headers=bearer(a.token))
    assert response.status_code == 422 and message in response.json()["error"]["message"]


async def test_build_queues_one_job_per_window(client: httpx.AsyncClient) -> None:
    a = await make_tenant("alpha")
    response = await client.post("/api/v1/snapshots/build", headers=bearer(a.token),
                                 json={"window_start": "2024-04-19T00:30:00Z", "window_end": "2024-04-19T03:00:00Z"})
    assert response.status_code == 202 and len(response.json()["job_ids"]) == 3
