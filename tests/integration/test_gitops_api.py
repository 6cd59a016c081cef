"""REST for GitOps settings, pull requests and policy downloads, over real PostgreSQL and Redis."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml
from sqlmodel import select

from models.db import session_scope
from models.errors import NotFound
from models.ops import AuditLog
from models.queries import gitops as gitops_queries
from tests.builders import bearer, make_tenant
from tests.fakes.gitops_fixtures import POLICY_YAML, TOKEN, add_policy, make_bare_repo, serving_fake_providers

pytestmark = pytest.mark.integration
SECRET = "glpat-SuperSecretValue12345"


SETTINGS = {"provider": "gitlab", "repo_url": "https://gitlab.com/acme/netpol.git", "base_branch": "main",
            "folder": "clusters/prod"}


async def test_settings_round_trip_keeps_the_token_write_only(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme", token_role="admin")
    empty = (await client.get("/api/v1/gitops", headers=bearer(acme.token))).json()
    assert empty["configured"] is False and empty["token_set"] is False

    saved = await client.put("/api/v1/gitops", headers=bearer(acme.token), json={**SETTINGS, "token": SECRET})
    assert saved.status_code == 200 and SECRET not in saved.text
    assert saved.json() | {"updated_at": None} == {**SETTINGS, "configured": True, "token_set": True,
                                                    "updated_at": None}
    read = await client.get("/api/v1/gitops", headers=bearer(acme.token))
    assert SECRET not in read.text and "token_encrypted" not in read.text and read.json()["token_set"] is True

    # Saving without a token keeps the stored one; a new value replaces it.
    await client.put("/api/v1/gitops", headers=bearer(acme.token), json={**SETTINGS, "base_branch": "release"})
    async with session_scope() as session:
        config = await gitops_queries.get_config(session, tenant_id=acme.tenant_id)
        assert config is not None and config.base_branch == "release"
        assert gitops_queries.read_token(config) == SECRET and SECRET not in config.token_encrypted
    await client.put("/api/v1/gitops", headers=bearer(acme.token), json={**SETTINGS, "token": "glpat-Another0000"})
    async with session_scope() as session:
        config = await gitops_queries.get_config(session, tenant_id=acme.tenant_id)
        assert config is not None and gitops_queries.read_token(config) == "glpat-Another0000"
        audit = list(await session.exec(select(AuditLog).where(AuditLog.action == "gitops.settings")))
    assert [a.after["token"] for a in audit] == ["token changed", "unchanged", "token changed"]
    assert SECRET not in json.dumps([[a.before, a.after] for a in audit])
    openapi = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/gitops" in openapi["paths"] and "/api/v1/policies/bundle/approved" in openapi["paths"]


@pytest.mark.parametrize(("change", "message"), [
    ({"provider": "bitbucket"}, "provider must be one of github, gitlab"),
    ({"repo_url": "http://gitlab.com/a/b"}, "unencrypted"),
    ({"repo_url": "https://me:pw@gitlab.com/a/b"}, "credentials"),
    ({"base_branch": "../main"}, "not a usable branch name"),
    ({"base_branch": "-delete"}, "not a usable branch name"),
    ({"folder": "../../etc"}, "folder segment"),
])
async def test_invalid_settings_answer_422_with_a_clear_message(
    client: httpx.AsyncClient, change: dict[str, str], message: str
) -> None:
    acme = await make_tenant("acme", token_role="admin")
    answer = await client.put("/api/v1/gitops", headers=bearer(acme.token), json={**SETTINGS, **change})
    assert answer.status_code == 422 and message in answer.json()["error"]["message"]


async def test_only_admins_read_or_change_settings(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme", token_role="approver")
    assert (await client.get("/api/v1/gitops", headers=bearer(acme.token))).status_code == 403
    refused = await client.put("/api/v1/gitops", headers=bearer(acme.token), json=SETTINGS)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


async def test_tenant_b_cannot_see_a_settings_pulls_or_policies(client: httpx.AsyncClient) -> None:
    a, b = await make_tenant("alpha", token_role="admin"), await make_tenant("bravo", token_role="admin")
    await client.put("/api/v1/gitops", headers=bearer(a.token), json={**SETTINGS, "token": SECRET})
    policy = await add_policy(a.tenant_id)
    async with session_scope() as session:
        await gitops_queries.save_pull(session, tenant_id=a.tenant_id, policy_id=policy.id or 0, branch="x",
                                       number=4, url="https://gitlab.test/acme/netpol/-/merge_requests/4",
                                       state="open", actor="gitops")
    pulls_a = (await client.get("/api/v1/gitops/pulls", headers=bearer(a.token))).json()
    assert [(p["number"], p["policy_name"], p["state"]) for p in pulls_a] == [(4, "reviews", "open")]
    assert (await client.get("/api/v1/gitops/pulls", headers=bearer(b.token))).json() == []
    b_settings = await client.get("/api/v1/gitops", headers=bearer(b.token))
    assert b_settings.json()["configured"] is False and "acme/netpol" not in b_settings.text
    foreign = await client.get(f"/api/v1/policies/{policy.id}/download", headers=bearer(b.token))
    assert foreign.status_code == 404 and "NetworkPolicy" not in foreign.text
    assert (await client.get("/api/v1/policies/bundle/approved", headers=bearer(b.token))).status_code == 404
    async with session_scope() as session:
        with pytest.raises(NotFound):
            await gitops_queries.save_pull(session, tenant_id=b.tenant_id, policy_id=policy.id or 0, branch="y",
                                           number=1, url="", state="open", actor="b")


async def test_single_download_is_the_exact_yaml_as_an_attachment(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme", token_role="viewer")
    policy = await add_policy(acme.tenant_id, status="pending")
    answer = await client.get(f"/api/v1/policies/{policy.id}/download", headers=bearer(acme.token))
    assert answer.status_code == 200 and answer.text == POLICY_YAML
    assert answer.headers["content-type"].startswith("application/yaml")
    assert answer.headers["content-disposition"] == 'attachment; filename="bookinfo-reviews.yaml"'


async def test_bundle_holds_every_approved_and_deployed_policy_only(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme")
    for name, status in (("ratings", "approved"), ("details", "deployed"), ("reviews", "draft"),
                         ("productpage", "rejected"), ("alpha", "approved")):
        await add_policy(acme.tenant_id, name=name, status=status, yaml=POLICY_YAML.replace("reviews", name))
    other = await make_tenant("other")
    await add_policy(other.tenant_id, name="foreign", yaml=POLICY_YAML.replace("reviews", "foreign"))
    answer = await client.get("/api/v1/policies/bundle/approved", headers=bearer(acme.token))
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith('attachment; filename="secureguard-acme-approved-')
    docs = [d for d in yaml.safe_load_all(answer.text) if d is not None]
    assert [d["metadata"]["name"] for d in docs] == ["alpha", "details", "ratings"]
    assert all(d["kind"] == "NetworkPolicy" for d in docs) and "foreign" not in answer.text


async def test_connection_test_checks_git_and_the_provider_token(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = await make_tenant("acme", token_role="admin")
    refused = await client.post("/api/v1/gitops/test", headers=bearer(acme.token))
    assert refused.status_code == 409 and "not configured" in refused.json()["error"]["message"]
    bare = make_bare_repo(tmp_path)
    with serving_fake_providers(monkeypatch):
        body = {"provider": "github", "repo_url": str(bare), "base_branch": "main", "folder": "np", "token": TOKEN}
        await client.put("/api/v1/gitops", headers=bearer(acme.token), json=body)
        good = (await client.post("/api/v1/gitops/test", headers=bearer(acme.token))).json()
        assert good == {"ok": True, "checks": ["git reaches the repository and its base branch 'main'",
                                               "the github API accepts the token for acme/netpol"]}
        await client.put("/api/v1/gitops", headers=bearer(acme.token), json={**body, "token": "ghp_Wrong000000000"})
        bad = await client.post("/api/v1/gitops/test", headers=bearer(acme.token))
        assert bad.json()["ok"] is False and "authentication failed (401)" in bad.json()["checks"][0]
        assert "ghp_Wrong000000000" not in bad.text
        await client.put("/api/v1/gitops", headers=bearer(acme.token), json={**body, "base_branch": "nope"})
        missing = (await client.post("/api/v1/gitops/test", headers=bearer(acme.token))).json()
    assert missing == {"ok": False, "checks": ["base branch 'nope' does not exist in the repository"]}
