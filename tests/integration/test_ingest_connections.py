"""A Zeek file pushed through the API and parsed by a real worker: its connections come back from
`read_connections` one per parsed flow, only to its tenant, and the snapshot the drift job loads counts
the flows nobody answered per edge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import polars as pl
import pytest

from jobs.engines.detect.answered import canonical_answered
from jobs.engines.flows import parse_file
from jobs.stores.flows import read_connections
from jobs.tasks.baseline import WindowLoader
from models.db import session_scope
from models.queries import graph as graph_queries
from tests.builders import bearer, make_tenant, settled
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.integration
RITA_HOUR = SHARED_DATA / "zeek" / "rita-missing-host" / "2024-04-19" / "conn.10_00_00-11_00_00.log.gz"


@pytest.mark.skipif(not RITA_HOUR.is_file(), reason=f"the RITA capture is not in {RITA_HOUR.parent} (../shared/data)")
async def test_an_ingested_capture_keeps_every_connection_for_its_tenant_only(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    async with worker_factory():
        response = await client.post("/api/v1/flows?format=zeek", content=RITA_HOUR.read_bytes(),
                                     headers=bearer(a.token))
        assert response.status_code == 202, response.text
        await settled(a.tenant_id)
    parsed = parse_file(RITA_HOUR).frame
    first = parsed["ts_start"].min()
    assert isinstance(first, datetime)
    day = datetime(first.year, first.month, first.day, tzinfo=UTC)
    got = read_connections(a.tenant_id, day, 2 * 86_400)
    assert got.height == parsed.height > 1000
    missed = parsed.select((~canonical_answered(parsed)).sum()).item()
    assert (~got["answered"]).sum() == missed > 0
    assert read_connections(b.tenant_id, day, 2 * 86_400).height == 0

    async with session_scope() as session:
        rows = await graph_queries.list_snapshots(session, tenant_id=a.tenant_id, limit=100)
    assert rows, "the upload built its snapshots"
    loader = WindowLoader(a.tenant_id)
    snapshots = [await loader.load(row) for row in rows]
    assert sum(e.flows for s in snapshots for e in s.edges) == parsed.height
    assert sum(e.unanswered for s in snapshots for e in s.edges) == missed
    # per edge: the unanswered flows of that edge's connections (IP-keyed Zeek edges)
    window = snapshots[0]
    conns = read_connections(a.tenant_id, window.window_start,
                             int((window.window_end - window.window_start).total_seconds()))
    per_edge = conns.group_by("src_ip", "dst_ip", "dst_port", "protocol").agg((~pl.col("answered")).sum())
    expected = {(s, d, p, proto): int(n) for s, d, p, proto, n in per_edge.iter_rows()}
    assert {e.key: e.unanswered for e in window.edges} == expected
