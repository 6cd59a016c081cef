"""Pull/merge request clients for GitHub and GitLab REST APIs (httpx), one small class each.

GitHub: POST /repos/{owner}/{repo}/pulls {title, head, base, body} → 201 {number, html_url, state};
GET /repos/{owner}/{repo}/pulls/{number} → {state: open|closed, merged, merged_at};
GET /repos/{owner}/{repo}/pulls?head=owner:branch&state=all finds one made before; `Authorization: Bearer`.
GitLab: POST /projects/{id}/merge_requests {source_branch, target_branch, title, description} → 201
{iid, web_url, state}; GET /projects/{id}/merge_requests/{iid} → {state: opened|closed|merged|locked};
GET /projects/{id}/merge_requests?source_branch=…&state=all; `PRIVATE-TOKEN`; {id} is the URL-encoded path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import quote

import httpx

from jobs.integrations.gitops.errors import (
    AuthFailed,
    BranchError,
    GitopsError,
    ProviderError,
    RepoNotFound,
    TransientError,
)

PullState = Literal["open", "merged", "closed"]
TIMEOUT = httpx.Timeout(20.0, connect=10.0)


@dataclass(frozen=True)
class PullInfo:
    """A pull/merge request as SecureGuard tracks it."""

    number: int
    url: str
    state: PullState


class ProviderClient(Protocol):
    async def open_pull(self, *, head: str, base: str, title: str, body: str) -> PullInfo: ...

    async def get_pull(self, number: int) -> PullInfo: ...

    async def find_pull(self, *, head: str) -> PullInfo | None: ...

    async def check_access(self) -> None: ...


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        parts = [str(body.get("message", "")), str(body.get("error", "") or "")]
        errors = body.get("errors")
        if isinstance(errors, list):
            parts += [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
        return "; ".join(p for p in parts if p and p != "None")[:300]
    return str(body)[:300]


def raise_for(response: httpx.Response, *, what: str) -> None:
    """The named error for a refusal of the provider's API."""
    status, detail = response.status_code, _message(response)
    if status < 400:
        return
    if status >= 500 or status == 429:
        raise TransientError(f"{what}: the provider answered {status}; will try again")
    if status == 401:
        raise AuthFailed(f"{what}: authentication failed (401): the token is invalid or expired")
    if status == 403:
        raise AuthFailed(f"{what}: access denied (403): the token lacks the needed scope ({detail})")
    if status == 404:
        raise RepoNotFound(f"{what}: repository or project not found, or the token cannot see it (404)")
    if status in (409, 422) and "already exists" in detail.lower():
        raise BranchError(f"{what}: a request for this branch already exists ({detail})")
    raise ProviderError(f"{what}: the provider refused it ({status}: {detail})")


async def _send(http: httpx.AsyncClient, method: str, url: str, *, what: str, **kwargs: Any) -> Any:
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise TransientError(f"{what}: cannot reach the provider API ({type(exc).__name__})") from None
    raise_for(response, what=what)
    return response.json()


class GitHubClient:
    """Pull requests on GitHub (or GitHub Enterprise at another `api_url`)."""

    def __init__(self, http: httpx.AsyncClient, *, api_url: str, token: str, project: str) -> None:
        self.http, self.base, self.project = http, api_url.rstrip("/"), project
        self.headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                        "Authorization": f"Bearer {token}"}

    @staticmethod
    def _info(pull: dict[str, Any]) -> PullInfo:
        merged = bool(pull.get("merged") or pull.get("merged_at"))
        state: PullState = "merged" if merged else ("open" if pull.get("state") == "open" else "closed")
        return PullInfo(number=int(pull["number"]), url=str(pull.get("html_url", "")), state=state)

    async def open_pull(self, *, head: str, base: str, title: str, body: str) -> PullInfo:
        """Open a pull request of `head` into `base`."""
        data = await _send(self.http, "POST", f"{self.base}/repos/{self.project}/pulls", headers=self.headers,
                           json={"title": title, "head": head, "base": base, "body": body},
                           what="opening the pull request")
        return self._info(data)

    async def get_pull(self, number: int) -> PullInfo:
        """The pull request's current state."""
        data = await _send(self.http, "GET", f"{self.base}/repos/{self.project}/pulls/{number}",
                           headers=self.headers, what=f"reading pull request #{number}")
        return self._info(data)

    async def find_pull(self, *, head: str) -> PullInfo | None:
        """The newest pull request (any state) from branch `head`, if one exists."""
        owner = self.project.split("/", 1)[0]
        data = await _send(self.http, "GET", f"{self.base}/repos/{self.project}/pulls", headers=self.headers,
                           params={"head": f"{owner}:{head}", "state": "all"}, what="looking up pull requests")
        return self._info(data[0]) if isinstance(data, list) and data else None

    async def check_access(self) -> None:
        """Raise unless the token can read the repository."""
        await _send(self.http, "GET", f"{self.base}/repos/{self.project}", headers=self.headers,
                    what="reading the repository")


class GitLabClient:
    """Merge requests on GitLab.com or a self-managed GitLab at another `api_url`."""

    def __init__(self, http: httpx.AsyncClient, *, api_url: str, token: str, project: str) -> None:
        self.http, self.base = http, api_url.rstrip("/")
        self.project = quote(project, safe="")
        self.headers = {"PRIVATE-TOKEN": token}

    @staticmethod
    def _info(mr: dict[str, Any]) -> PullInfo:
        raw = mr.get("state")
        state: PullState = "merged" if raw == "merged" else ("open" if raw in ("opened", "locked") else "closed")
        return PullInfo(number=int(mr["iid"]), url=str(mr.get("web_url", "")), state=state)

    async def open_pull(self, *, head: str, base: str, title: str, body: str) -> PullInfo:
        """Open a merge request of `head` into `base`."""
        data = await _send(self.http, "POST", f"{self.base}/projects/{self.project}/merge_requests",
                           headers=self.headers, what="opening the merge request",
                           json={"source_branch": head, "target_branch": base, "title": title, "description": body})
        return self._info(data)

    async def get_pull(self, number: int) -> PullInfo:
        """The merge request's current state."""
        data = await _send(self.http, "GET", f"{self.base}/projects/{self.project}/merge_requests/{number}",
                           headers=self.headers, what=f"reading merge request !{number}")
        return self._info(data)

    async def find_pull(self, *, head: str) -> PullInfo | None:
        """The newest merge request (any state) from branch `head`, if one exists."""
        data = await _send(self.http, "GET", f"{self.base}/projects/{self.project}/merge_requests",
                           headers=self.headers, params={"source_branch": head, "state": "all"},
                           what="looking up merge requests")
        return self._info(data[0]) if isinstance(data, list) and data else None

    async def check_access(self) -> None:
        """Raise unless the token can read the project."""
        await _send(self.http, "GET", f"{self.base}/projects/{self.project}", headers=self.headers,
                    what="reading the project")


def provider_client(
    http: httpx.AsyncClient, *, provider: str, api_url: str, token: str, project: str
) -> ProviderClient:
    """The client of `provider` (github | gitlab)."""
    if provider == "github":
        return GitHubClient(http, api_url=api_url, token=token, project=project)
    if provider == "gitlab":
        return GitLabClient(http, api_url=api_url, token=token, project=project)
    raise GitopsError(f"unknown provider {provider!r}: use github or gitlab")
