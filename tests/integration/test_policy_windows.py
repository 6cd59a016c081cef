"""Which windows generation and the impact preview read, on real flows: a Hubble bookinfo hour (2021) and a
newer Zeek hour (2024) from the demo's sensor, which holds no workload."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from jobs.tasks.policy import policy_impact
from models.db import session_scope
from models.queries import policies as policy_queries
from models.queries import policy_windows
from tests.builders import bearer, make_tenant, settled
from tests.conftest import SHARED_DATA
from tests.integration.policy_support import generate

pytestmark = pytest.mark.integration
BOOKINFO = SHARED_DATA / "hubble" / "basic-sample-400-l7-redirected-flows.json"
ZEEK_HOUR = SHARED_DATA / "zeek" / "rita-missing-host" / "2024-04-19" / "conn.00_00_00-01_00_00.log.gz"
ZEEK_PERIOD = {"start": "2024-04-19T00:00:00Z", "end": "2024-04-19T01:00:00Z"}


async def _push(client: httpx.AsyncClient, secret: str, fmt: str, body: bytes) -> None:
    pushed = await client.post(f"/api/v1/flows?format={fmt}", content=body, headers=bearer(secret))
    assert pushed.status_code == 202, pushed.text


@pytest.mark.skipif(not (BOOKINFO.is_file() and ZEEK_HOUR.is_file()), reason="shared sample data absent")
async def test_generation_and_preview_read_the_windows_that_hold_the_traffic(
    client: httpx.AsyncClient, worker_factory: Any
) -> None:
    a = await make_tenant("alpha")
    async with worker_factory():
        await _push(client, a.token, "hubble", BOOKINFO.read_bytes())
        await _push(client, a.token, "zeek", ZEEK_HOUR.read_bytes())
        await settled(a.tenant_id)
        async with session_scope() as session:
            choices = await policy_windows.window_choices(session, tenant_id=a.tenant_id)
        assert choices.windows == 3 and choices.workload_windows == 1  # the Zeek hour spills into the next
        assert choices.sources == ["hubble", "zeek_tsv"]

        # The newest window is Zeek's: generating from it alone says there is nothing to learn from.
        zeek_only = await generate(client, a.token, a.tenant_id, {"last": 1})
        assert zeek_only["no_workloads"] is True and zeek_only["policies"] == 0 and zeek_only["windows"] == 1
        same = await generate(client, a.token, a.tenant_id, ZEEK_PERIOD)
        assert same["no_workloads"] is True and same["created"] == []
        # A period over both, or the Hubble source alone, learns from the one window holding workloads.
        both = await generate(client, a.token, a.tenant_id,
                               {"start": "2021-01-01T00:00:00Z", "end": "2025-01-01T00:00:00Z"})
        assert both["windows"] == 3 and both["workload_windows"] == 1 and both["policies"] == 7 and both["exact"]
        hubble = await generate(client, a.token, a.tenant_id, {"start": "2021-01-01T00:00:00Z",
                                                                 "end": "2025-01-01T00:00:00Z", "source": "hubble"})
        assert hubble["windows"] == 1 and hubble["created"] == [] and hubble["unchanged"] == 7

    bad = await client.post("/api/v1/policies/generate", json={"start": "2024-04-19T01:00:00Z",
                                                               "end": "2024-04-19T00:00:00Z"}, headers=bearer(a.token))
    assert bad.status_code == 422 and "end must come after" in bad.json()["error"]["message"]
    empty = await client.post("/api/v1/policies/generate", json={"start": "2030-01-01T00:00:00Z",
                                                                 "end": "2030-01-02T00:00:00Z"}, headers=bearer(a.token))
    assert empty.status_code == 409
    cluster = await client.post("/api/v1/policies/generate", json={"cluster": "prod-eu"}, headers=bearer(a.token))
    assert cluster.status_code == 422 and "kind-kind" in cluster.json()["error"]["message"]

    listed = (await client.get("/api/v1/policies?namespace=bookinfo", headers=bearer(a.token))).json()
    check = listed[0]["verification"]
    assert check["observed_flows"] > 0 and check["observed_windows"] == 1
    assert datetime.fromisoformat(check["observed_from"]) < datetime.fromisoformat(check["observed_to"])
    assert datetime.fromisoformat(check["observed_to"]).year == 2021

    # The preview reads the bookinfo window, not the newer Zeek one, and says how much it checked.
    impact = await policy_impact(tenant_id=a.tenant_id, policy_id=listed[0]["id"], snapshots=24)
    assert impact["snapshots"] == 1 and impact["namespace"] == "bookinfo"
    assert impact["checked_flows"] > 0 and impact["windows_from"].startswith("2021-")
    async with session_scope() as session:
        coverage = await policy_queries.policy_coverage(session, tenant_id=a.tenant_id)
    assert coverage["ready_snapshots"] == 3 and coverage["window_start"].startswith("2021-")
    assert {row["namespace"] for row in coverage["namespaces"]} >= {"bookinfo"}
    assert datetime.now(UTC).year >= 2024
