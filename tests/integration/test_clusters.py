"""Issue 19 A4 end to end: two clusters in one tenant, from two real Hubble captures through a real worker.

The 330-flow DNS capture is cluster `default`; the 400-flow UDP one is relabelled from `kind-kind` to `east`
(`io.cilium.k8s.policy.cluster`, rewritten in a temporary copy). Both hold a `kube-system/kube-dns`. Generation
gives one exact policy set per cluster, the REST list names each policy's cluster, the namespaces list holds
(cluster, namespace) pairs from the data, the bundle is per cluster, and GitOps files an `east` policy under
`<folder>/east/` while a `default` one keeps today's path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlmodel import col, select

from models.db import session_scope
from models.drift import DriftEvent
from models.policy import Policy
from tests.builders import bearer, make_tenant, settled
from tests.conftest import SHARED_DATA
from tests.fakes.git_providers import FakeProviders
from tests.fakes.gitops_fixtures import configure, git, make_bare_repo, run_job
from tests.integration.policy_support import generate
from tests.unit.policy.test_policy_clusters import relabelled

pytestmark = pytest.mark.integration
HUBBLE = SHARED_DATA / "hubble"


async def _two_clusters(client: httpx.AsyncClient, token: str, tmp_path: Path) -> None:
    """Push both captures."""
    east = relabelled(HUBBLE / "basic-sample-400-udp-flows.json", "kind-kind", "east", tmp_path)
    for path in (HUBBLE / "basic-sample-330-dns-flows.json", east):
        pushed = await client.post("/api/v1/flows?format=hubble", content=path.read_bytes(), headers=bearer(token))
        assert pushed.status_code == 202, pushed.text


async def _release_all(tenant_id: int) -> None:
    """As the review workflow would leave them (its rules are tested in test_policies)."""
    async with session_scope() as session:
        for row in await session.exec(select(Policy).where(Policy.tenant_id == tenant_id)):
            row.status = "approved"
            session.add(row)


async def test_two_clusters_get_two_exact_policy_sets_namespaces_and_bundles(
    client: httpx.AsyncClient, worker_factory: Any, tmp_path: Path
) -> None:
    a = await make_tenant("alpha", token_role="admin")
    async with worker_factory():
        await _two_clusters(client, a.token, tmp_path)
        await settled(a.tenant_id)
        wrong = await client.post("/api/v1/policies/generate", json={"cluster": "west"}, headers=bearer(a.token))
        assert wrong.status_code == 422 and "default, east" in wrong.json()["error"]["message"]
        result = await generate(client, a.token, a.tenant_id, {"last": 10})
    assert result["clusters"].keys() == {"default", "east"}
    assert all(one["exact"] and one["policies"] > 0 for one in result["clusters"].values())
    assert result["exact"] and not result["invalid"]

    listed = (await client.get("/api/v1/policies", headers=bearer(a.token))).json()
    by_cluster = {(p["cluster"], p["namespace"], p["name"]): p for p in listed}
    assert ("default", "kube-system", "sg-kube-dns") in by_cluster
    assert ("east", "kube-system", "sg-kube-dns") in by_cluster
    assert by_cluster[("east", "kube-system", "sg-kube-dns")]["workload"] == "east/kube-system/kube-dns"
    assert by_cluster[("default", "kube-system", "sg-kube-dns")]["workload"] == "kube-system/kube-dns"
    assert all(p["verification"]["exact"] for p in listed)
    east_only = (await client.get("/api/v1/policies?cluster=east", headers=bearer(a.token))).json()
    assert east_only and {p["cluster"] for p in east_only} == {"east"}

    # the graph of the east window holds the east DNS pod, keyed apart from the default one
    snapshots = (await client.get("/api/v1/snapshots", headers=bearer(a.token))).json()
    keys: set[str] = set()
    window_of: dict[str, int] = {}
    for snapshot in snapshots:
        graph = (await client.get(f"/api/v1/snapshots/{snapshot['id']}/graph", headers=bearer(a.token))).json()
        dns = {node["id"] for node in graph["nodes"] if node["id"].endswith("kube-system/kube-dns")}
        keys |= dns
        window_of |= {key: snapshot["id"] for key in dns}
    assert keys == {"kube-system/kube-dns", "east/kube-system/kube-dns"}
    assert window_of["kube-system/kube-dns"] != window_of["east/kube-system/kube-dns"]

    await _release_all(a.tenant_id)
    namespaces = (await client.get("/api/v1/namespaces", headers=bearer(a.token))).json()
    pairs = {(n["cluster"], n["namespace"]) for n in namespaces}
    assert {("default", "kube-system"), ("east", "kube-system"), ("east", "bookinfo")} <= pairs
    assert all(cluster in ("default", "east") for cluster, _ in pairs)
    mode = await client.put("/api/v1/namespaces/east/kube-system/mode", json={"mode": "monitor", "reason": "east first"},
                            headers=bearer(a.token))
    assert mode.status_code == 200, mode.text
    modes = {(n["cluster"], n["namespace"]): n["mode"]
             for n in (await client.get("/api/v1/namespaces", headers=bearer(a.token))).json()}
    assert modes[("east", "kube-system")] == "monitor" and modes[("default", "kube-system")] == "learn"

    # monitor mode: east's DNS policy narrowed to admit nothing; only east's flows meet it, only east's violate it
    east_dns = by_cluster[("east", "kube-system", "sg-kube-dns")]["id"]
    async with session_scope() as session:
        row = await session.get(Policy, east_dns)
        assert row is not None
        manifest = yaml.safe_load(row.yaml)
        manifest["spec"]["ingress"] = []
        row.yaml = yaml.safe_dump(manifest)
        session.add(row)
    async with worker_factory():
        east = await run_job("monitor_window", a.tenant_id, {"snapshot_id": window_of["east/kube-system/kube-dns"]},
                             key="east")
        home = await run_job("monitor_window", a.tenant_id, {"snapshot_id": window_of["kube-system/kube-dns"]},
                             key="home")
    assert east.status == "succeeded" and home.status == "succeeded", (east.error, home.error)
    assert east.result["namespaces"] == ["east/kube-system"] and east.result["violations"] > 0
    assert home.result["evaluated"] == 0 and home.result["violations"] == 0
    async with session_scope() as session:
        events = list(await session.exec(select(DriftEvent).where(DriftEvent.tenant_id == a.tenant_id,
                                                                  DriftEvent.kind == "violation")))
    assert len(events) == east.result["violations"]
    assert {(e.dst, e.policy_id) for e in events} == {("east/kube-system/kube-dns", east_dns)}
    # the impact preview of the narrowed east policy blocks east's DNS flows, never default's look-alike pod's
    impact = (await client.get(f"/api/v1/policies/{east_dns}/impact?snapshots=10", headers=bearer(a.token))).json()
    assert impact["selected"] == ["east/kube-system/kube-dns"] and impact["snapshots"] == 1
    assert impact["blocked"] and {b["dst"] for b in impact["blocked"]} == {"east/kube-system/kube-dns"}
    home_dns = by_cluster[("default", "kube-system", "sg-kube-dns")]["id"]
    unchanged = (await client.get(f"/api/v1/policies/{home_dns}/impact?snapshots=10", headers=bearer(a.token))).json()
    assert unchanged["selected"] == ["kube-system/kube-dns"] and unchanged["blocked"] == []

    both = await client.get("/api/v1/policies/bundle/approved", headers=bearer(a.token))
    assert both.status_code == 409 and "default, east" in both.json()["error"]["message"]
    for cluster in ("default", "east"):
        bundle = await client.get(f"/api/v1/policies/bundle/approved?cluster={cluster}", headers=bearer(a.token))
        assert bundle.status_code == 200, bundle.text
        names = {(p["namespace"], p["name"]) for p in listed if p["cluster"] == cluster}
        documents = [line for line in bundle.text.splitlines() if line.startswith("# ") and " v1 (" in line]
        assert {tuple(line[2:].split(" ")[0].split("/")) for line in documents} == names
        disposition = bundle.headers["content-disposition"]
        assert ("-east-approved-" in disposition) == (cluster == "east")
        assert ("in cluster east" in bundle.text) == (cluster == "east")
    missing = await client.get("/api/v1/policies/bundle/approved?cluster=west", headers=bearer(a.token))
    assert missing.status_code == 404


async def test_gitops_files_a_clusters_policy_under_its_cluster(
    worker_factory: Any, tmp_path: Path, fake_providers: FakeProviders
) -> None:
    bare = make_bare_repo(tmp_path)
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare, provider="github")
    yaml_text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: sg-kube-dns\n"
    async with session_scope() as session:
        rows = [Policy(tenant_id=acme.tenant_id, name="sg-kube-dns", namespace="kube-system", cluster=cluster,
                       yaml=yaml_text + f"  namespace: kube-system # {cluster}\n", status="approved")
                for cluster in ("default", "east")]
        session.add_all(rows)
        await session.flush()
        ids = {row.cluster: row.id for row in rows}
    async with worker_factory():
        done = {cluster: await run_job("sync_gitops", acme.tenant_id, {"policy_id": pid}, key=f"{pid}:v1")
                for cluster, pid in ids.items()}
    assert all(run.status == "succeeded" for run in done.values()), {c: r.error for c, r in done.items()}
    assert done["default"].result["path"] == "networkpolicies/kube-system/sg-kube-dns.yaml"
    assert done["default"].result["branch"] == "secureguard/kube-system-sg-kube-dns-v1"
    assert done["east"].result["path"] == "networkpolicies/east/kube-system/sg-kube-dns.yaml"
    assert done["east"].result["branch"] == "secureguard/east-kube-system-sg-kube-dns-v1"
    east_file = "secureguard/east-kube-system-sg-kube-dns-v1:networkpolicies/east/kube-system/sg-kube-dns.yaml"
    shown = git(bare, "show", east_file)
    assert shown.endswith("# east\n")
    titles = [call.body["title"] for call in fake_providers.calls("POST", "/repos/acme/netpol/pulls")]
    assert sorted(titles) == ["SecureGuard: NetworkPolicy east/kube-system/sg-kube-dns v1",
                              "SecureGuard: NetworkPolicy kube-system/sg-kube-dns v1"]
    async with session_scope() as session:
        statuses = set(await session.exec(select(Policy.status).where(col(Policy.id).in_(list(ids.values())))))
    assert statuses <= {"approved", "deployed"}
