"""A tenant's Git target in plain values, the provider client for it, and the connection test."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from jobs.integrations.gitops.git import Remote, check_remote
from jobs.integrations.gitops.naming import project_path
from jobs.integrations.gitops.providers import TIMEOUT, ProviderClient, provider_client
from models.settings import get_settings


@dataclass(frozen=True)
class GitTarget:
    """Where a tenant's policies go (the token in clear: keep it in memory only)."""

    provider: str
    repo_url: str
    base_branch: str
    folder: str
    token: str

    def __repr__(self) -> str:  # the token never reaches a log line through a repr
        token = "set" if self.token else "unset"
        return f"GitTarget({self.provider}, {self.repo_url!r}, {self.base_branch!r}, token={token})"

    @property
    def remote(self) -> Remote:
        """The git remote with its credentials."""
        return Remote(url=self.repo_url, token=self.token, provider=self.provider)

    @property
    def project(self) -> str:
        """The provider's project named by the repository URL."""
        return project_path(self.repo_url, self.provider)

    @property
    def api_url(self) -> str:
        """The provider's REST base URL (settings SG_GITHUB_API_URL / SG_GITLAB_API_URL)."""
        settings = get_settings()
        return settings.github_api_url if self.provider == "github" else settings.gitlab_api_url

    def client(self, http: httpx.AsyncClient) -> ProviderClient:
        """The pull/merge request client of this target."""
        return provider_client(http, provider=self.provider, api_url=self.api_url, token=self.token,
                               project=self.project)


async def check_connection(target: GitTarget) -> list[str]:
    """What works, line by line; raises the first named error (GitopsError or TransientError)."""
    done = []
    with tempfile.TemporaryDirectory(prefix="sg-gitops-check-") as tmp:
        await check_remote(target.remote, base_branch=target.base_branch, cwd=Path(tmp))
    done.append(f"git reaches the repository and its base branch {target.base_branch!r}")
    if target.token:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            await target.client(http).check_access()
        done.append(f"the {target.provider} API accepts the token for {target.project}")
    else:
        done.append(f"no token set: pull requests cannot be opened on {target.provider} until one is")
    return done
