"""Policy generation through the REST API, as the integration tests of clusters and flow windows drive it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.builders import bearer, settled


async def generate(client: httpx.AsyncClient, token: str, tenant_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Ask for generated policies (`body` as POST /api/v1/policies/generate takes it), wait for the job and answer
    its result (the job must succeed)."""
    answer = await client.post("/api/v1/policies/generate", json=body, headers=bearer(token))
    assert answer.status_code == 202, answer.text
    await settled(tenant_id)
    job = (await client.get(f"/api/v1/jobs/{answer.json()['job_id']}", headers=bearer(token))).json()
    assert job["status"] == "succeeded", job
    return dict(job["result"])
