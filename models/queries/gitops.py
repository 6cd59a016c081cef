"""Queries for GitOps: a tenant's Git settings, the pull requests opened for its policies, and the
policies that may leave the building (approved or deployed).

The provider token is sealed with `models.secretbox` and write-only: `GitopsConfigPublic` says only
whether one is set, and the audit log records "token changed", never a value.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urlsplit

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import Invalid, NotFound
from models.policy import GitopsConfig, Policy, PullRequest
from models.public.policy import GitopsConfigPublic, PullPublic
from models.queries.audit import record_audit
from models.secretbox import seal, unseal
from models.settings import get_settings
from models.types import utcnow

PROVIDERS = ("github", "gitlab")
PULL_STATES = ("open", "merged", "closed")
RELEASED = ("approved", "deployed")
MAX_TOKEN = 1000
_SCP_URL = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-]+$")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


def validate_repo_url(value: str, *, allowed_hosts: Collection[str], allow_local: bool) -> str:
    """An https:// URL on one of `allowed_hosts` (`host`, or `host:port` for another port than 443); a file://
    URL or an absolute path only with `allow_local`. Never ssh: git runs with no identity of the machine's."""
    url = (value or "").strip()
    if not url:
        raise Invalid("repository URL or path is required")
    if len(url) > 500:
        raise Invalid("repository URL is longer than 500 characters")
    if url.startswith("-") or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise Invalid("repository URL must not start with '-' or contain spaces or control characters")
    if url.startswith("https://"):
        return _https_url(url, allowed_hosts)
    rule = _url_rule(allowed_hosts, allow_local)
    if url.startswith(("file://", "/")):
        if allow_local and (url.startswith("/") or url.startswith("file:///")):
            return url
        raise Invalid(f"local paths and file:// URLs are not allowed: {rule}")
    if url.startswith("http://"):
        raise Invalid("plain http:// would send the token unencrypted: use https://")
    if url.startswith("ssh://") or _SCP_URL.match(url):
        raise Invalid(f"ssh is not supported (the token authenticates over https): {rule}")
    raise Invalid(rule)


def _url_rule(allowed_hosts: Collection[str], allow_local: bool) -> str:
    local = ", a file:// URL or an absolute path" if allow_local else ""
    return f"repository must be an https:// URL on an allowed host ({', '.join(sorted(allowed_hosts))}){local}"


def _https_url(url: str, allowed_hosts: Collection[str]) -> str:
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise Invalid("do not put credentials in the repository URL: use the token field")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise Invalid("repository URL must not have a query or fragment")
    try:
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        raise Invalid("repository URL has a port that is not a number from 1 to 65535") from None
    if not host:
        raise Invalid("repository URL has no host")
    named = host if port in (None, 443) else f"{host}:{port}"
    if named not in allowed_hosts:
        raise Invalid(f"host {named!r} is not allowed: {_url_rule(allowed_hosts, False)}")
    if parts.path.strip("/") == "":
        raise Invalid("repository URL names no repository: expected https://host/owner/repository")
    return url


def check_repo_url(value: str) -> str:
    """`validate_repo_url` under the operator's SG_GITOPS_ALLOWED_HOSTS and SG_GITOPS_ALLOW_LOCAL."""
    settings = get_settings()
    return validate_repo_url(value, allowed_hosts=settings.gitops_hosts, allow_local=settings.gitops_allow_local)


def validate_branch(value: str) -> str:
    """A git branch name that is safe on a command line (no '..', no leading '-')."""
    name = (value or "").strip()
    if not name:
        raise Invalid("base branch is required")
    if len(name) > 120:
        raise Invalid("base branch is longer than 120 characters")
    bad = (not _BRANCH.match(name) or ".." in name or "//" in name or name.endswith(("/", ".", ".lock"))
           or "@{" in name)
    if bad:
        raise Invalid(
            f"{name!r} is not a usable branch name: letters, digits, '.', '_', '-', '/'; no '..'; "
            "not starting with '-' or ending with '/' or '.lock'"
        )
    return name


def validate_folder(value: str) -> str:
    """A relative folder inside the repository ('' is its root); no '..', no absolute path."""
    raw = (value or "").strip()
    if raw.startswith("/"):
        raise Invalid("folder must be relative to the repository root (no leading '/')")
    folder = raw.rstrip("/")
    if len(folder) > 255:
        raise Invalid("folder is longer than 255 characters")
    for segment in folder.split("/") if folder else []:
        if segment in ("", ".", "..") or not _SEGMENT.match(segment):
            raise Invalid(
                f"folder segment {segment!r} is not allowed: letters, digits, '.', '_', '-'; no '..' "
                "and not starting with '-' or '.'"
            )
    return folder


def validate_provider(value: str) -> str:
    """github or gitlab."""
    provider = (value or "").strip().lower()
    if provider not in PROVIDERS:
        raise Invalid(f"provider must be one of {', '.join(PROVIDERS)}")
    return provider


async def get_config(session: AsyncSession, *, tenant_id: int) -> GitopsConfig | None:
    """The tenant's Git settings, or None when never saved."""
    query = select(GitopsConfig).where(GitopsConfig.tenant_id == tenant_id)
    return (await session.exec(query)).first()


async def put_config(
    session: AsyncSession, *, tenant_id: int, actor: str, provider: str, repo_url: str, base_branch: str,
    folder: str, token: str | None = None, clear_token: bool = False,
) -> GitopsConfig:
    """Validate and save the tenant's settings. `token`: None or '' keeps the stored one, a value replaces it."""
    values = {
        "provider": validate_provider(provider), "repo_url": check_repo_url(repo_url),
        "base_branch": validate_branch(base_branch), "folder": validate_folder(folder),
    }
    new_token = (token or "").strip()
    if len(new_token) > MAX_TOKEN or any(ch.isspace() for ch in new_token):
        raise Invalid(f"token must be one word of at most {MAX_TOKEN} characters")
    config = await get_config(session, tenant_id=tenant_id)
    before = GitopsConfigPublic.of(config).model_dump() if config is not None else {}
    if config is None:
        config = GitopsConfig(tenant_id=tenant_id)
    for name, value in values.items():
        setattr(config, name, value)
    token_change = "unchanged"
    if new_token:
        config.token_encrypted, token_change = seal(new_token), "token changed"
    elif clear_token and config.token_encrypted:
        config.token_encrypted, token_change = "", "token removed"
    config.updated_at = utcnow()
    session.add(config)
    await session.flush()
    after = {**GitopsConfigPublic.of(config).model_dump(), "token": token_change}
    await record_audit(session, tenant_id=tenant_id, actor=actor, action="gitops.settings",
                       target="gitops", before=before, after=after)
    return config


def read_token(config: GitopsConfig) -> str:
    """The provider token in clear, for the job and the connection test only ('' when none is set)."""
    return unseal(config.token_encrypted) if config.token_encrypted else ""


async def list_pulls(
    session: AsyncSession, *, tenant_id: int, state: str | None = None, limit: int = 100
) -> list[tuple[PullRequest, Policy]]:
    """The tenant's pull requests with their policies, newest first."""
    query = select(PullRequest, Policy).join(Policy, col(Policy.id) == col(PullRequest.policy_id)).where(
        PullRequest.tenant_id == tenant_id, Policy.tenant_id == tenant_id
    )
    if state:
        query = query.where(PullRequest.state == state)
    query = query.order_by(col(PullRequest.id).desc()).limit(min(max(limit, 1), 1000))
    return [(pull, policy) for pull, policy in await session.exec(query)]


async def find_pull(session: AsyncSession, *, tenant_id: int, policy_id: int, branch: str) -> PullRequest | None:
    """The pull request already recorded for this policy's branch, if any."""
    query = select(PullRequest).where(PullRequest.tenant_id == tenant_id, PullRequest.policy_id == policy_id,
                                      PullRequest.branch == branch)
    return (await session.exec(query)).first()


async def save_pull(
    session: AsyncSession, *, tenant_id: int, policy_id: int, branch: str, number: int, url: str, state: str,
    actor: str,
) -> PullRequest:
    """Record the pull request of a policy's branch (updated in place when the branch has one already)."""
    if state not in PULL_STATES:
        raise Invalid(f"pull request state must be one of {', '.join(PULL_STATES)}")
    await get_policy(session, tenant_id=tenant_id, policy_id=policy_id)
    pull = await find_pull(session, tenant_id=tenant_id, policy_id=policy_id, branch=branch)
    before = PullPublic.of(pull).model_dump() if pull is not None else {}
    pull = pull or PullRequest(tenant_id=tenant_id, policy_id=policy_id, branch=branch[:255])
    pull.number, pull.url, pull.state, pull.updated_at = number, url[:500], state, utcnow()
    session.add(pull)
    await session.flush()
    after = PullPublic.of(pull).model_dump()
    if before != after:
        await record_audit(session, tenant_id=tenant_id, actor=actor, action="gitops.pull_request",
                           target=f"policy:{policy_id}", before=before, after=after)
    return pull


async def tenants_with_open_pulls(session: AsyncSession) -> list[int]:
    """Tenants that have a pull request still open (what the tracking cron visits)."""
    query = select(PullRequest.tenant_id).where(PullRequest.state == "open").distinct()
    return sorted(int(t) for t in await session.exec(query))


async def get_policy(session: AsyncSession, *, tenant_id: int, policy_id: int) -> Policy:
    """One of the tenant's policies."""
    policy = (await session.exec(select(Policy).where(Policy.tenant_id == tenant_id, Policy.id == policy_id))).first()
    if policy is None:
        raise NotFound(f"policy {policy_id} not found")
    return policy


async def list_released_policies(session: AsyncSession, *, tenant_id: int) -> list[Policy]:
    """The tenant's approved and deployed policies, by namespace then name (what a bundle holds)."""
    query = select(Policy).where(Policy.tenant_id == tenant_id, col(Policy.status).in_(RELEASED)).order_by(
        col(Policy.namespace), col(Policy.name), col(Policy.id)
    )
    return list(await session.exec(query))


async def mark_policy_deployed(session: AsyncSession, *, tenant_id: int, policy_id: int, actor: str) -> Policy:
    """approved → deployed once its pull request merged (audited); other statuses are left alone."""
    policy = await get_policy(session, tenant_id=tenant_id, policy_id=policy_id)
    if policy.status != "approved":
        return policy
    policy.status, policy.updated_at = "deployed", utcnow()
    session.add(policy)
    await session.flush()
    await record_audit(session, tenant_id=tenant_id, actor=actor, action="policy.deployed",
                       target=f"policy:{policy_id}", before={"status": "approved"}, after={"status": "deployed"})
    return policy
