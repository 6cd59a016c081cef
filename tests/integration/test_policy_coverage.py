"""Policy coverage per (cluster, namespace) (issue 19 A4) on PostgreSQL, through the query and REST: two clusters'
`shop` namespaces are counted apart, single-cluster data gives the rows it always gave (with cluster `default`),
and a tenant sees only its own coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.db import session_scope
from models.policy import Policy
from models.queries import graph as graph_queries
from models.queries import policies as policy_queries
from tests.builders import bearer, make_tenant

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 30, tzinfo=UTC)


def _node(key: str) -> dict[str, Any]:
    *_, namespace, name = key.split("/")
    return {"key": key, "name": name, "kind": "workload", "namespace": namespace, "labels": {"app": name}}


def _edge(src: str, dst: str) -> dict[str, Any]:
    return {"src": src, "dst": dst, "dst_port": 8080, "protocol": "tcp", "bytes": 1000, "packets": 10, "flows": 1,
            "rejected": 0, "first_seen": START, "last_seen": START + timedelta(minutes=5)}


async def _store(tenant_id: int, pairs: list[tuple[str, str]], governed: list[tuple[str, str]]) -> None:
    """One window of `pairs` and, per (cluster, workload key), an approved policy selecting that workload."""
    keys = sorted({key for pair in pairs for key in pair})
    async with session_scope() as session:
        await graph_queries.replace_snapshot(
            session, tenant_id=tenant_id, window_start=START, window_end=START + timedelta(hours=1),
            source="hubble", nodes=[_node(k) for k in keys], edges=[_edge(s, d) for s, d in pairs])
        for cluster, key in governed:
            namespace, name = key.split("/")[-2:]
            session.add(Policy(tenant_id=tenant_id, cluster=cluster, namespace=namespace, name=f"sg-{name}",
                               target=key, status="approved"))


def _row(cluster: str, namespace: str, edges: int, covered: int, percent: float) -> dict[str, Any]:
    return {"cluster": cluster, "namespace": namespace, "edges": edges, "covered": covered, "percent": percent}


async def test_coverage_counts_each_clusters_namespaces_apart(app_ctx: str, client: httpx.AsyncClient) -> None:
    alpha, beta = await make_tenant("alpha"), await make_tenant("beta")
    # both clusters run a shop (api → db); east also a pay gateway calling its shop's api
    await _store(alpha.tenant_id, [("shop/api", "shop/db"), ("east/shop/api", "east/shop/db"),
                                   ("east/pay/gw", "east/shop/api")],
                 governed=[("default", "shop/db"), ("east", "east/pay/gw")])
    await _store(beta.tenant_id, [("shop/api", "shop/db"), ("shop/web", "shop/api")], governed=[("default", "shop/db")])

    async with session_scope() as session:
        two = await policy_queries.policy_coverage(session, tenant_id=alpha.tenant_id)
        one = await policy_queries.policy_coverage(session, tenant_id=beta.tenant_id)
    # counted by namespace alone, `shop` mixed both clusters: 1 of 3 edges
    assert two["namespaces"] == [_row("default", "shop", 1, 1, 100.0), _row("east", "pay", 1, 1, 100.0),
                                 _row("east", "shop", 2, 0, 0.0)]
    assert (two["edges"], two["covered"]) == (4, 2)
    # single-cluster data: the namespace's rows and totals as before, in cluster `default`
    assert one["namespaces"] == [_row("default", "shop", 2, 1, 50.0)] and (one["edges"], one["covered"]) == (2, 1)

    answer = await client.get("/api/v1/policies/coverage", headers=bearer(alpha.token))
    assert answer.status_code == 200, answer.text
    assert [(r["cluster"], r["namespace"], r["covered"]) for r in answer.json()["namespaces"]] == [
        ("default", "shop", 1), ("east", "pay", 1), ("east", "shop", 0)]
    theirs = (await client.get("/api/v1/policies/coverage", headers=bearer(beta.token))).json()
    assert theirs["snapshot_id"] != two["snapshot_id"] and theirs["namespaces"] == one["namespaces"]
