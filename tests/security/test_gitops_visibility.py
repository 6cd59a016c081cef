"""The GitOps page shows a tenant's repository settings and sync errors to admins only, as the REST route does
(`GET /api/v1/gitops` needs admin); everyone may see the pull requests."""

from __future__ import annotations

import pytest
from reflex.state import State

from models.db import session_scope
from models.ops import JobRun
from models.queries import gitops as gitops_queries
from state.base import AppState
from state.gitops import GitopsState
from tests.security.conftest import Seeded

pytestmark = pytest.mark.integration

REPO = "https://github.com/alpha-corp/private-policies"
ERROR = "could not push to github.com/alpha-corp/private-policies: branch protection"


async def _page_as(tenant: Seeded, role: str) -> GitopsState:
    root = State(_reflex_internal_init=True)
    app_state = await root.get_state(AppState)
    app_state._user_id, app_state._tenant_id, app_state._role = tenant.users[role], tenant.tenant_id, role
    app_state.user_email = tenant.email(role)
    page = await root.get_state(GitopsState)
    assert isinstance(page, GitopsState)
    await GitopsState.event_handlers["load"].fn(page)
    return page


async def test_only_admins_see_the_repository_and_the_sync_error(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    async with session_scope() as session:
        await gitops_queries.put_config(session, tenant_id=alpha.tenant_id, actor="admin@alpha.test",
                                        provider="github", repo_url=REPO, base_branch="main",
                                        folder="networkpolicies", token="ghp_secret")
        session.add(JobRun(tenant_id=alpha.tenant_id, name="sync_gitops", arq_job_id="sync:1", status="failed",
                           error=ERROR, triggered_by="tester"))
    admin = await _page_as(alpha, "admin")
    assert admin.repo_url == REPO and ERROR in admin.last_sync
    for role in ("approver", "analyst", "viewer"):
        page = await _page_as(alpha, role)
        assert page.repo_url == "" and page.configured, role
        assert "failed" in page.last_sync and "alpha-corp" not in page.last_sync, role
