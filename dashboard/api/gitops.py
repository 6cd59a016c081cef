"""`/api/v1/gitops`: the tenant's Git settings (admin; the token is write-only) and its pull requests.

PUT body: `{"provider", "repo_url", "base_branch", "folder", "token"?}`; an absent or empty token keeps
the stored one, a value replaces it; answers never contain it, only `token_set`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from dashboard.api.deps import Caller, DbSession
from dashboard.api.errors import ApiError
from jobs.integrations.gitops.errors import GitopsError, TransientError
from jobs.integrations.gitops.target import GitTarget, check_connection
from models.queries import gitops as gitops_queries
from models.secretbox import SecretUnreadable

router = APIRouter(prefix="/gitops")


class GitopsIn(BaseModel):
    provider: str = "github"
    repo_url: str
    base_branch: str = "main"
    folder: str = "networkpolicies"
    token: str | None = None


@router.get("")
async def read_settings(caller: Caller, session: DbSession) -> dict[str, Any]:
    """The tenant's settings (`configured: false` until saved), never the token."""
    caller.require("admin")
    return gitops_queries.config_public(await gitops_queries.get_config(session, tenant_id=caller.tenant_id))


@router.put("")
async def put_settings(caller: Caller, session: DbSession, body: GitopsIn) -> dict[str, Any]:
    """Validate and save the settings (audited; the audit says "token changed", never the value)."""
    caller.require("admin")
    try:
        config = await gitops_queries.put_config(
            session, tenant_id=caller.tenant_id, actor=caller.actor, provider=body.provider,
            repo_url=body.repo_url, base_branch=body.base_branch, folder=body.folder, token=body.token,
        )
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from exc
    return gitops_queries.config_public(config)


@router.post("/test")
async def test_connection(caller: Caller, session: DbSession) -> dict[str, Any]:
    """Try the saved settings: git reaches the base branch, the provider API accepts the token."""
    caller.require("admin")
    config = await gitops_queries.get_config(session, tenant_id=caller.tenant_id)
    if config is None or not config.repo_url:
        raise ApiError(409, "not_configured", "GitOps is not configured: save a repository first")
    try:
        target = GitTarget(config.provider, config.repo_url, config.base_branch, config.folder,
                           gitops_queries.read_token(config))
        return {"ok": True, "checks": await check_connection(target)}
    except (GitopsError, TransientError) as exc:
        return {"ok": False, "checks": [exc.message]}
    except SecretUnreadable as exc:
        return {"ok": False, "checks": [str(exc)]}


@router.get("/pulls")
async def list_pulls(caller: Caller, session: DbSession, state: str | None = None) -> list[dict[str, Any]]:
    """The tenant's pull/merge requests with their policies, newest first (`state`: open | merged | closed)."""
    caller.require("viewer")
    if state is not None and state not in gitops_queries.PULL_STATES:
        raise ApiError(422, "invalid_request", f"state must be one of {', '.join(gitops_queries.PULL_STATES)}")
    rows = await gitops_queries.list_pulls(session, tenant_id=caller.tenant_id, state=state)
    return [gitops_queries.pull_public(pull, policy) for pull, policy in rows]
