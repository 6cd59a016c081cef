"""`/api/v1/gitops`: the tenant's Git settings (admin; the token is write-only) and its pull requests.

PUT body: `{"provider", "repo_url", "base_branch", "folder", "token"?}`; an absent or empty token keeps
the stored one, a value replaces it; answers never contain it, only `token_set`.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from dashboard.api.answers import CheckResult
from dashboard.api.deps import Caller, DbSession
from dashboard.api.errors import ApiError
from jobs.integrations.gitops.errors import GitopsError, TransientError
from jobs.integrations.gitops.target import check_connection
from jobs.tasks.gitops import load_target
from models.errors import Invalid
from models.public.policy import GitopsConfigPublic, PullWithPolicyPublic
from models.queries import gitops as gitops_queries

router = APIRouter(prefix="/gitops")


class GitopsIn(BaseModel):
    provider: str = "github"
    repo_url: str
    base_branch: str = "main"
    folder: str = "networkpolicies"
    token: str | None = None


@router.get("")
async def read_settings(caller: Caller, session: DbSession) -> GitopsConfigPublic:
    """The tenant's settings (`configured: false` until saved), never the token."""
    caller.require("admin")
    return GitopsConfigPublic.of(await gitops_queries.get_config(session, tenant_id=caller.tenant_id))


@router.put("")
async def put_settings(caller: Caller, session: DbSession, body: GitopsIn) -> GitopsConfigPublic:
    """Validate and save the settings (audited; the audit says "token changed", never the value)."""
    caller.require("admin")
    config = await gitops_queries.put_config(
        session, tenant_id=caller.tenant_id, actor=caller.actor, provider=body.provider,
        repo_url=body.repo_url, base_branch=body.base_branch, folder=body.folder, token=body.token,
    )
    return GitopsConfigPublic.of(config)


@router.post("/test")
async def test_connection(caller: Caller) -> CheckResult:
    """Try the saved settings: git reaches the base branch, the provider API accepts the token."""
    caller.require("admin")
    try:
        # load_target applies the operator's URL rules again: a URL saved before them is refused here too.
        target = await load_target(caller.tenant_id)
        if target is None:
            raise ApiError(409, "not_configured", "GitOps is not configured: save a repository first")
        return CheckResult(ok=True, checks=await check_connection(target))
    except (GitopsError, TransientError) as exc:
        return CheckResult(ok=False, checks=[exc.message])


@router.get("/pulls")
async def list_pulls(caller: Caller, session: DbSession, state: str | None = None) -> list[PullWithPolicyPublic]:
    """The tenant's pull/merge requests with their policies, newest first (`state`: open | merged | closed)."""
    caller.require("viewer")
    if state is not None and state not in gitops_queries.PULL_STATES:
        raise Invalid(f"state must be one of {', '.join(gitops_queries.PULL_STATES)}")
    rows = await gitops_queries.list_pulls(session, tenant_id=caller.tenant_id, state=state)
    return [PullWithPolicyPublic.with_policy(pull, policy) for pull, policy in rows]
