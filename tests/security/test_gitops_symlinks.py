"""Finding 1 of issue 16: a tenant's repository holding symbolic links must not make the worker write outside
its work tree. The repository's policy path (or a folder above it) links to a file standing for `./run`;
approving a policy must leave that file alone, fail the sync with a clear message and not mark it deployed."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from arq.worker import Worker

from jobs.integrations.gitops.git import Remote
from jobs.integrations.gitops.naming import PolicyFile
from jobs.integrations.gitops.publish import publish_policy
from models.db import session_scope
from models.queries import gitops as gitops_queries
from tests.builders import make_tenant
from tests.fakes.git_providers import FakeProviders
from tests.fakes.gitops_fixtures import (
    POLICY_YAML,
    add_policy,
    allowing_local_repos,
    configure,
    git,
    make_bare_repo,
    push_commit,
    run_job,
)
from tests.integration.conftest import running_worker

pytestmark = pytest.mark.integration
BRANCH = "secureguard/bookinfo-reviews-v1"
RUN_SCRIPT = "#!/bin/sh\necho the operator's start script\n"


@pytest.fixture
def local_repos(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with allowing_local_repos(monkeypatch):
        yield


@pytest.fixture
def worker(app_ctx: str) -> Callable[[], contextlib.AbstractAsyncContextManager[Worker]]:
    return running_worker


def _outside(tmp_path: Path) -> Path:
    """A file outside every checkout, standing for the project's `./run` (or the database, or a flow store)."""
    run = tmp_path / "outside" / "run"
    run.parent.mkdir()
    run.write_text(RUN_SCRIPT)
    return run


@pytest.mark.parametrize("link_at", ["file", "folder", "namespace"])
async def test_a_symlink_in_the_repository_is_never_written_through(
    tmp_path: Path, fake_providers: FakeProviders, worker: Any, link_at: str
) -> None:
    run = _outside(tmp_path)
    (run.parent / "bookinfo").mkdir()
    (run.parent / "bookinfo" / "reviews.yaml").write_text(RUN_SCRIPT)
    bare = make_bare_repo(tmp_path / "remote")
    links = {"file": {"networkpolicies/bookinfo/reviews.yaml": str(run)},
             "folder": {"networkpolicies": str(run.parent)},
             "namespace": {"networkpolicies/bookinfo": str(run.parent / "bookinfo")}}[link_at]
    base = push_commit(bare, "main", links=links, message="links out of the tree")
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare)
    policy = await add_policy(acme.tenant_id)
    async with worker():
        done = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id})

    assert run.read_text() == RUN_SCRIPT
    assert (run.parent / "bookinfo" / "reviews.yaml").read_text() == RUN_SCRIPT
    assert done.status == "failed"
    assert "symbolic link" in done.error and str(run.parent) not in done.error
    async with session_scope() as session:
        shipped = await gitops_queries.get_policy(session, tenant_id=acme.tenant_id, policy_id=policy.id or 0)
        assert shipped.status == "approved"
        assert await gitops_queries.list_pulls(session, tenant_id=acme.tenant_id) == []
    assert git(bare, "rev-parse", "main").strip() == base
    assert BRANCH not in git(bare, "branch", "--list")
    assert fake_providers.calls("POST", "/pulls") == []


async def test_a_link_elsewhere_in_the_repository_does_not_stop_the_policy(
    tmp_path: Path, fake_providers: FakeProviders, worker: Any
) -> None:
    run = _outside(tmp_path)
    bare = make_bare_repo(tmp_path / "remote")
    push_commit(bare, "main", links={"docs/run": str(run)}, message="an unrelated link")
    acme = await make_tenant("acme")
    await configure(acme.tenant_id, bare)
    policy = await add_policy(acme.tenant_id)
    async with worker():
        done = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id})
    assert done.status == "succeeded", done.error
    assert run.read_text() == RUN_SCRIPT
    assert git(bare, "ls-tree", BRANCH, "docs/run").split()[0] == "120000"  # the tenant's link kept as it was
    assert "kind: NetworkPolicy" in git(bare, "show", f"{BRANCH}:networkpolicies/bookinfo/reviews.yaml")


async def test_the_work_folder_never_holds_the_tenants_files(tmp_path: Path, local_repos: None) -> None:
    """Only git objects land on disk: no checkout, so no link of the tenant's can be followed or written."""
    run = _outside(tmp_path)
    bare = make_bare_repo(tmp_path / "remote")
    push_commit(bare, "main", links={"docs/run": str(run)}, files={"docs/notes.md": "notes\n"})
    workdir = tmp_path / "work"
    pushed = await publish_policy(Remote(url=str(bare)), PolicyFile("bookinfo", "reviews", 1, POLICY_YAML),
                                  base_branch="main", folder="networkpolicies", workdir=workdir)
    assert pushed.pushed and git(bare, "show", f"{BRANCH}:networkpolicies/bookinfo/reviews.yaml") == POLICY_YAML
    on_disk = {p.name for p in workdir.rglob("*")}
    assert not {"README.md", "notes.md", "run", "reviews.yaml", "networkpolicies", "docs"} & on_disk, on_disk
    assert not [p for p in workdir.rglob("*") if p.is_symlink()]
