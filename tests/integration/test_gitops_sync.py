"""sync_gitops and PR tracking through a real worker: real git into a local bare repository, the fake
GitHub/GitLab API on loopback, real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from jobs.runtime.connections import get_redis
from jobs.runtime.constants import events_channel
from jobs.runtime.queue import enqueue_job
from jobs.tasks.gitops import NOT_CONFIGURED, schedule_pull_tracking
from models.db import session_scope
from models.errors import NotFound
from models.ops import AuditLog
from models.policy import Policy
from models.queries import gitops as gitops_queries
from models.queries import jobs as job_queries
from tests.builders import make_tenant, settled
from tests.fakes.git_providers import FakeProviders
from tests.fakes.gitops_fixtures import (
    POLICY_YAML,
    PROJECT,
    TOKEN,
    add_policy,
    configure,
    git,
    make_bare_repo,
    run_job,
)

pytestmark = pytest.mark.integration
BRANCH = "secureguard/bookinfo-reviews-v1"
PATH = "networkpolicies/bookinfo/reviews.yaml"


@pytest.fixture
def bare_repo(tmp_path: Path) -> Path:
    return make_bare_repo(tmp_path)


async def _policy(tenant_id: int, policy_id: int) -> Policy:
    async with session_scope() as session:
        return await gitops_queries.get_policy(session, tenant_id=tenant_id, policy_id=policy_id)


async def test_sync_commits_exact_yaml_on_a_branch_and_opens_a_github_pull_request(
    worker_factory: Any, bare_repo: Path, fake_providers: FakeProviders
) -> None:
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare_repo, provider="github")
    policy = await add_policy(acme.tenant_id)
    async with worker_factory():
        done = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id}, key=f"{policy.id}:v1")
    assert done.status == "succeeded", done.error
    assert done.result["branch"] == BRANCH and done.result["path"] == PATH and done.result["reused"] is False

    # The branch exists in the bare repository with one new commit holding exactly the YAML.
    assert git(bare_repo, "show", f"{BRANCH}:{PATH}") == POLICY_YAML
    assert git(bare_repo, "ls-tree", "-r", "--name-only", BRANCH).split() == ["README.md", PATH]
    assert git(bare_repo, "log", "--format=%an <%ae>|%s", f"main..{BRANCH}").splitlines() == [
        "SecureGuard <secureguard@localhost>|Add NetworkPolicy bookinfo/reviews (v1)"]
    assert git(bare_repo, "rev-parse", BRANCH).strip() == done.result["commit"]
    assert "networkpolicies" not in git(bare_repo, "ls-tree", "-r", "--name-only", "main")

    # The pull request was opened with the documented fields and the bearer token.
    [create] = fake_providers.calls("POST", f"/repos/{PROJECT}/pulls")
    assert create.headers["authorization"] == f"Bearer {TOKEN}"
    assert create.body["head"] == BRANCH and create.body["base"] == "main"
    assert create.body["title"] == "SecureGuard: NetworkPolicy bookinfo/reviews v1" and PATH in create.body["body"]
    async with session_scope() as session:
        [(pull, _)] = await gitops_queries.list_pulls(session, tenant_id=acme.tenant_id)
    assert (pull.number, pull.state, pull.branch) == (1, "open", BRANCH)
    assert pull.url == f"https://github.test/{PROJECT}/pull/1" == done.result["pull_request"]


async def test_gitlab_merge_request_gets_documented_fields_and_private_token(
    worker_factory: Any, bare_repo: Path, fake_providers: FakeProviders
) -> None:
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, f"file://{bare_repo}", provider="gitlab")
    policy = await add_policy(acme.tenant_id)
    async with worker_factory():
        done = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id})
    assert done.status == "succeeded", done.error
    assert git(bare_repo, "show", f"{BRANCH}:{PATH}") == POLICY_YAML
    [create] = fake_providers.calls("POST", "/merge_requests")
    assert create.path == "/gitlab/api/v4/projects/acme%2Fnetpol/merge_requests"
    assert create.headers["private-token"] == TOKEN and "authorization" not in create.headers
    assert create.body["source_branch"] == BRANCH and create.body["target_branch"] == "main"
    assert create.body["title"] == "SecureGuard: NetworkPolicy bookinfo/reviews v1"
    assert done.result["pull_request"] == f"https://gitlab.test/{PROJECT}/-/merge_requests/1"


async def test_rerun_reuses_branch_and_pull_request(
    worker_factory: Any, bare_repo: Path, fake_providers: FakeProviders
) -> None:
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare_repo)
    policy = await add_policy(acme.tenant_id)
    async with worker_factory():
        first = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id}, key=f"{policy.id}:v1")
        head = git(bare_repo, "rev-parse", BRANCH)
        second = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id}, key=f"{policy.id}:v1")
    assert first.status == second.status == "succeeded", second.error
    assert second.result["reused"] is True and second.result["pushed"] is False
    assert git(bare_repo, "rev-parse", BRANCH) == head
    assert len(fake_providers.calls("POST", "/pulls")) == 1
    async with session_scope() as session:
        assert len(await gitops_queries.list_pulls(session, tenant_id=acme.tenant_id)) == 1


async def test_lost_pull_request_row_is_found_at_the_provider_not_opened_twice(
    worker_factory: Any, bare_repo: Path, fake_providers: FakeProviders
) -> None:
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare_repo)
    policy = await add_policy(acme.tenant_id)
    async with worker_factory():
        await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id})
        async with session_scope() as session:  # as if the worker died between opening and recording
            [(pull, _)] = await gitops_queries.list_pulls(session, tenant_id=acme.tenant_id)
            await session.delete(pull)
        again = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id})
    assert again.status == "succeeded" and again.result["reused"] is True and again.result["number"] == 1
    assert len(fake_providers.calls("POST", "/pulls")) == 1


async def test_tracking_marks_merged_deployed_and_closed_closed_and_publishes(
    worker_factory: Any, bare_repo: Path, fake_providers: FakeProviders
) -> None:
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare_repo)
    merged = await add_policy(acme.tenant_id, name="reviews")
    closed = await add_policy(acme.tenant_id, name="ratings", yaml=POLICY_YAML.replace("reviews", "ratings"))
    pubsub = get_redis().pubsub()
    await pubsub.subscribe(events_channel(acme.tenant_id))
    async with worker_factory():
        for policy in (merged, closed):
            assert (await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id})).status == "succeeded"
        assert (await schedule_pull_tracking({}))["tenants"] >= 1
        await settled(acme.tenant_id)  # the scheduled run sees both PRs open, before the providers change them
        fake_providers.merge("github", PROJECT, 1)
        fake_providers.close("github", PROJECT, 2)
        tracked = await run_job("track_pull_requests", acme.tenant_id, key="track-now")
    assert tracked.status == "succeeded", tracked.error
    assert tracked.result == {"checked": 2, "merged": 1, "closed": 1}
    assert (await _policy(acme.tenant_id, merged.id or 0)).status == "deployed"
    assert (await _policy(acme.tenant_id, closed.id or 0)).status == "approved"
    async with session_scope() as session:
        states = {p.policy_id: p.state for p, _ in await gitops_queries.list_pulls(session, tenant_id=acme.tenant_id)}
        assert states == {merged.id: "merged", closed.id: "closed"}
        assert await gitops_queries.tenants_with_open_pulls(session) == []
        runs = await job_queries.list_job_runs(session, tenant_id=acme.tenant_id, name="track_pull_requests")
    assert any(r.triggered_by.startswith("schedule:") for r in runs)
    events, loop = [], asyncio.get_running_loop()
    quiet_until = loop.time() + 0.3
    while loop.time() < quiet_until:  # every message until the channel stays quiet
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
        if msg is not None:
            events.append(json.loads(msg["data"]))
            quiet_until = loop.time() + 0.3
    await pubsub.aclose()
    updates = [e["data"] for e in events if e["type"] == "policy.updated"]
    assert any(u["id"] == merged.id and u["status"] == "deployed" and u["pull_request"]["state"] == "merged"
               for u in updates)


async def test_not_configured_is_a_clear_result_not_a_failure(worker_factory: Any) -> None:
    acme = await make_tenant("acme")
    policy = await add_policy(acme.tenant_id)
    async with worker_factory():
        done = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id})
    assert done.status == "succeeded"
    assert done.result == {"status": "skipped", "reason": NOT_CONFIGURED}


async def test_bad_token_fails_clearly_without_leaking_it(
    worker_factory: Any, bare_repo: Path, fake_providers: FakeProviders
) -> None:
    acme = await make_tenant("acme")
    wrong = "ghp_WrongToken9876543210zyxw"
    await configure(acme.tenant_id, bare_repo, token=wrong)
    policy = await add_policy(acme.tenant_id)
    async with worker_factory():
        done = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id})
    assert done.status == "failed" and done.attempts == 1
    assert "authentication failed (401)" in done.error
    everything = json.dumps([done.error, done.result, done.attempt_errors, done.params])
    assert wrong not in everything and "WrongToken" not in everything
    async with session_scope() as session:
        audit = list(await session.exec(select(AuditLog).where(AuditLog.tenant_id == acme.tenant_id)))
        config = await gitops_queries.get_config(session, tenant_id=acme.tenant_id)
    assert audit and all(wrong not in json.dumps([a.before, a.after, a.target]) for a in audit)
    assert config is not None and wrong not in config.token_encrypted and gitops_queries.read_token(config) == wrong
    assert any(a.after.get("token") == "token changed" for a in audit)


async def test_unapproved_policy_is_refused(worker_factory: Any, bare_repo: Path,
                                            fake_providers: FakeProviders) -> None:
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare_repo)
    draft = await add_policy(acme.tenant_id, status="pending")
    async with worker_factory():
        done = await run_job("sync_gitops", acme.tenant_id, {"policy_id": draft.id})
    assert done.status == "failed" and "is pending: only approved policies are shipped" in done.error
    assert "secureguard/" not in git(bare_repo, "branch", "--list")


async def _wait_for(tenant_id: int, run_id: int, statuses: set[str], within: float = 20) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with session_scope() as session:
            found = await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=run_id)
        if found.status in statuses or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.025)


async def test_transient_provider_error_is_retried(
    worker_factory: Any, bare_repo: Path, fake_providers: FakeProviders
) -> None:
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare_repo)
    policy = await add_policy(acme.tenant_id)
    fake_providers.fail_with = 503
    async with worker_factory():
        queued = await enqueue_job("sync_gitops", tenant_id=acme.tenant_id, triggered_by="t",
                                   params={"policy_id": policy.id})
        waiting = await _wait_for(acme.tenant_id, queued.id or 0, {"retrying", "failed", "succeeded"})
        assert waiting.status == "retrying" and "transient failure, attempt 1 of 3" in waiting.error
        fake_providers.fail_with = None
        done = await _wait_for(acme.tenant_id, queued.id or 0, {"succeeded", "failed"})
    assert done.status == "succeeded" and done.attempts == 2
    assert git(bare_repo, "show", f"{BRANCH}:{PATH}") == POLICY_YAML


async def test_tenant_b_cannot_read_a_config_or_pulls(
    worker_factory: Any, bare_repo: Path, fake_providers: FakeProviders
) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    await configure(a.tenant_id, bare_repo)
    policy = await add_policy(a.tenant_id)
    async with worker_factory():
        assert (await run_job("sync_gitops", a.tenant_id, {"policy_id": policy.id})).status == "succeeded"
        async with session_scope() as session:
            assert await gitops_queries.get_config(session, tenant_id=b.tenant_id) is None
        # B, once configured, still cannot ship A's policy by its id.
        await configure(b.tenant_id, bare_repo, token="ghp_BravoToken0000000000")
        foreign = await run_job("sync_gitops", b.tenant_id, {"policy_id": policy.id})
    assert foreign.status == "failed" and f"policy {policy.id} not found" in foreign.error
    async with session_scope() as session:
        b_config = await gitops_queries.get_config(session, tenant_id=b.tenant_id)
        assert b_config is not None and gitops_queries.read_token(b_config) == "ghp_BravoToken0000000000"
        assert await gitops_queries.list_pulls(session, tenant_id=b.tenant_id) == []
        assert len(await gitops_queries.list_pulls(session, tenant_id=a.tenant_id)) == 1
        with pytest.raises(NotFound):
            await gitops_queries.get_policy(session, tenant_id=b.tenant_id, policy_id=policy.id or 0)
