"""GitOps jobs: `sync_gitops` commits an approved policy on its branch and opens the pull/merge request;
`track_pull_requests` follows open ones (merged → the policy is `deployed`); the cron
`schedule_pull_tracking` queues the tracking for every tenant with an open request.

Idempotent: the branch and file are named by the policy version, a push happens only when the
remote lacks the content, and an existing request for the branch is reused (found in our table,
else asked of the provider) instead of opening a second one.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import httpx
from arq import Retry

from jobs.integrations.gitops.errors import AuthFailed, GitopsError, TransientError
from jobs.integrations.gitops.naming import PolicyFile
from jobs.integrations.gitops.providers import TIMEOUT, PullInfo
from jobs.integrations.gitops.publish import PushResult, publish_policy
from jobs.integrations.gitops.target import GitTarget
from jobs.runtime.events import publish_event
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import PermanentJobError, tracked
from models.db import session_scope
from models.errors import NotFound
from models.policy import Policy, PullRequest
from models.public.policy import PullPublic
from models.queries import gitops as gitops_queries
from models.secretbox import SecretUnreadable

logger = logging.getLogger(__name__)
NOT_CONFIGURED = "GitOps not configured: set a repository on the GitOps page to ship approved policies"
ACTOR = "gitops"


async def load_target(tenant_id: int) -> GitTarget | None:
    """The tenant's Git target, or None when no repository is configured; GitopsError when its URL is not
    allowed (saved before the operator's rules, or the rules changed since) or its token cannot be read."""
    async with session_scope() as session:
        config = await gitops_queries.get_config(session, tenant_id=tenant_id)
    if config is None or not config.repo_url:
        return None
    try:
        repo_url = gitops_queries.check_repo_url(config.repo_url)
        token = gitops_queries.read_token(config)
    except ValueError as exc:
        raise GitopsError(f"repository not used: {exc}") from None
    except SecretUnreadable as exc:
        raise GitopsError(str(exc)) from None
    return GitTarget(config.provider, repo_url, config.base_branch, config.folder, token)


async def _publish_policy(ctx: dict[str, Any], policy: Policy, pull: PullRequest | None) -> None:
    summary = {"id": policy.id, "name": policy.name, "namespace": policy.namespace, "status": policy.status,
               "version": policy.version}
    # `action` and `policy` match the review workflow's policy.updated events; the rest is GitOps detail.
    data = {**summary, "action": "deployed" if policy.status == "deployed" else "pull_request", "policy": summary,
            "pull_request": PullPublic.of(pull).model_dump() if pull else None}
    await publish_event(ctx["redis"], tenant_id=policy.tenant_id, kind="policy.updated", data=data)


async def _existing_pull(client: Any, tenant_id: int, policy_id: int, branch: str) -> PullInfo | None:
    """The request already made for `branch` (our row first, else the provider's list), unless closed."""
    async with session_scope() as session:
        row = await gitops_queries.find_pull(session, tenant_id=tenant_id, policy_id=policy_id, branch=branch)
    found = await client.get_pull(row.number) if row is not None and row.number else None
    found = found or await client.find_pull(head=branch)
    return found if found is not None and found.state != "closed" else None


async def _propose(target: GitTarget, policy_file: PolicyFile, pushed: PushResult, tenant_id: int,
                   policy_id: int) -> tuple[PullInfo, bool]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        client = target.client(http)
        found = await _existing_pull(client, tenant_id, policy_id, pushed.branch)
        if found is not None:
            return found, True
        opened = await client.open_pull(head=pushed.branch, base=target.base_branch, title=policy_file.title,
                                        body=policy_file.body(pushed.path))
        return opened, False


async def _record(ctx: dict[str, Any], tenant_id: int, policy_id: int, branch: str, info: PullInfo) -> PullRequest:
    async with session_scope() as session:
        pull = await gitops_queries.save_pull(session, tenant_id=tenant_id, policy_id=policy_id, branch=branch,
                                              number=info.number, url=info.url, state=info.state, actor=ACTOR)
        policy = await gitops_queries.get_policy(session, tenant_id=tenant_id, policy_id=policy_id)
        if info.state == "merged":
            policy = await gitops_queries.mark_policy_deployed(session, tenant_id=tenant_id, policy_id=policy_id,
                                                               actor=ACTOR)
    await _publish_policy(ctx, policy, pull)
    return pull


def _retry(ctx: dict[str, Any], exc: TransientError) -> Retry:
    logger.warning("gitops: %s (attempt %s)", exc.message, ctx["job_try"])
    return Retry(defer=5 * ctx["job_try"])


async def _ship(ctx: dict[str, Any], tenant_id: int, policy: Policy, target: GitTarget) -> dict[str, Any]:
    policy_file = PolicyFile(policy.namespace, policy.name, policy.version, policy.yaml, cluster=policy.cluster)
    if not target.token:
        raise AuthFailed(f"no {target.provider} token is set: add one on the GitOps page to open pull requests")
    with tempfile.TemporaryDirectory(prefix="sg-gitops-") as tmp:
        pushed = await publish_policy(target.remote, policy_file, base_branch=target.base_branch,
                                      folder=target.folder, workdir=Path(tmp) / "repo")
    result: dict[str, Any] = {"status": "proposed", "branch": pushed.branch, "path": pushed.path,
                              "commit": pushed.commit, "pushed": pushed.pushed}
    if pushed.same_as_base:
        async with session_scope() as session:
            deployed = await gitops_queries.mark_policy_deployed(session, tenant_id=tenant_id,
                                                                 policy_id=policy.id or 0, actor=ACTOR)
        await _publish_policy(ctx, deployed, None)
        return {**result, "status": "already in base branch", "pull_request": None}
    info, reused = await _propose(target, policy_file, pushed, tenant_id, policy.id or 0)
    pull = await _record(ctx, tenant_id, policy.id or 0, pushed.branch, info)
    return {**result, "pull_request": pull.url, "number": pull.number, "state": pull.state, "reused": reused}


async def _job_target(tenant_id: int) -> GitTarget | None:
    try:
        return await load_target(tenant_id)
    except GitopsError as exc:
        raise PermanentJobError(exc.message) from None


@tracked(timeout=300, max_tries=3)
async def sync_gitops(ctx: dict[str, Any], *, tenant_id: int, policy_id: int) -> dict[str, Any]:
    """Commit an approved policy on `secureguard/<ns>-<name>-v<version>`, push, open the pull/merge request."""
    target = await _job_target(tenant_id)
    if target is None:
        return {"status": "skipped", "reason": NOT_CONFIGURED}
    async with session_scope() as session:
        try:
            policy = await gitops_queries.get_policy(session, tenant_id=tenant_id, policy_id=policy_id)
        except NotFound as exc:
            raise PermanentJobError(exc.message) from None
    if policy.status not in gitops_queries.RELEASED:
        raise PermanentJobError(f"policy {policy_id} is {policy.status}: only approved policies are shipped")
    try:
        return await _ship(ctx, tenant_id, policy, target)
    except TransientError as exc:
        raise _retry(ctx, exc) from None
    except GitopsError as exc:
        raise PermanentJobError(target.remote.scrub(exc.message)) from None


@tracked(timeout=300, max_tries=3)
async def track_pull_requests(ctx: dict[str, Any], *, tenant_id: int) -> dict[str, Any]:
    """Ask the provider about each open request: merged → policy deployed, closed → closed."""
    target = await _job_target(tenant_id)
    if target is None:
        return {"status": "skipped", "reason": NOT_CONFIGURED}
    async with session_scope() as session:
        pulls = await gitops_queries.list_pulls(session, tenant_id=tenant_id, state="open")
    changed = {"merged": 0, "closed": 0}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            client = target.client(http)
            for pull, _policy in pulls:
                info = await client.get_pull(pull.number or 0)
                if info.state != "open":
                    await _record(ctx, tenant_id, pull.policy_id, pull.branch, info)
                    changed[info.state] += 1
    except TransientError as exc:
        raise _retry(ctx, exc) from None
    except GitopsError as exc:
        raise PermanentJobError(target.remote.scrub(exc.message)) from None
    return {"checked": len(pulls), **changed}


async def schedule_pull_tracking(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron, every 5 minutes: queue `track_pull_requests` for each tenant with an open request."""
    async with session_scope() as session:
        tenant_ids = await gitops_queries.tenants_with_open_pulls(session)
    for tenant_id in tenant_ids:
        await enqueue_job("track_pull_requests", tenant_id=tenant_id,
                          triggered_by="schedule: pull requests every 5 min", key="track")
    return {"tenants": len(tenant_ids)}
