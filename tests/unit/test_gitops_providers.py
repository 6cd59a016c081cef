"""Provider clients against httpx.MockTransport: request shape, state mapping, named errors."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from jobs.integrations.gitops.errors import AuthFailed, BranchError, ProviderError, RepoNotFound, TransientError
from jobs.integrations.gitops.providers import GitHubClient, GitLabClient, PullInfo

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_github_create_sends_documented_fields_and_bearer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"number": 5, "html_url": "https://gh/a/b/pull/5", "state": "open",
                                         "merged": False})

    async with _client(handler) as http:
        info = await GitHubClient(http, api_url="https://api.gh/", token="tok", project="a/b").open_pull(
            head="secureguard/x-v1", base="main", title="T", body="B")
    assert info == PullInfo(5, "https://gh/a/b/pull/5", "open")
    request = seen[0]
    assert request.method == "POST" and str(request.url) == "https://api.gh/repos/a/b/pulls"
    assert request.headers["authorization"] == "Bearer tok"
    assert json.loads(request.content) == {"title": "T", "head": "secureguard/x-v1", "base": "main", "body": "B"}


@pytest.mark.parametrize(("answer", "state"), [
    ({"number": 1, "state": "open", "merged": False}, "open"),
    ({"number": 1, "state": "closed", "merged": True, "merged_at": "2026-11-23T10:00:00Z"}, "merged"),
    ({"number": 1, "state": "closed", "merged": False, "merged_at": None}, "closed"),
])
async def test_github_states(answer: dict[str, object], state: str) -> None:
    async with _client(lambda r: httpx.Response(200, json=answer)) as http:
        assert (await GitHubClient(http, api_url="https://x", token="t", project="a/b").get_pull(1)).state == state


async def test_gitlab_create_encodes_project_and_uses_private_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"iid": 3, "web_url": "https://gl/g/p/-/merge_requests/3", "state": "opened"})

    async with _client(handler) as http:
        info = await GitLabClient(http, api_url="https://gl/api/v4", token="glt", project="g/sub/p").open_pull(
            head="b", base="main", title="T", body="D")
    assert info == PullInfo(3, "https://gl/g/p/-/merge_requests/3", "open")
    assert seen[0].url.raw_path == b"/api/v4/projects/g%2Fsub%2Fp/merge_requests"
    assert seen[0].headers["private-token"] == "glt" and "authorization" not in seen[0].headers
    assert json.loads(seen[0].content) == {"source_branch": "b", "target_branch": "main", "title": "T",
                                           "description": "D"}


@pytest.mark.parametrize(("raw", "state"), [("opened", "open"), ("merged", "merged"), ("closed", "closed")])
async def test_gitlab_states(raw: str, state: str) -> None:
    async with _client(lambda r: httpx.Response(200, json={"iid": 2, "state": raw})) as http:
        assert (await GitLabClient(http, api_url="https://x", token="t", project="a/b").get_pull(2)).state == state


@pytest.mark.parametrize(("status", "body", "kind", "words"), [
    (401, {"message": "Bad credentials"}, AuthFailed, "authentication failed"),
    (403, {"message": "Resource not accessible by integration"}, AuthFailed, "scope"),
    (404, {"message": "Not Found"}, RepoNotFound, "not found"),
    (422, {"message": "Validation Failed", "errors": [{"message": "A pull request already exists for a:b."}]},
     BranchError, "already exists"),
    (422, {"message": "Validation Failed", "errors": [{"message": "No commits between main and b"}]},
     ProviderError, "No commits between"),
    (502, {"message": "Bad gateway"}, TransientError, "502"),
])
async def test_refusals_become_named_errors(status: int, body: dict[str, object], kind: type[Exception],
                                            words: str) -> None:
    async with _client(lambda r: httpx.Response(status, json=body)) as http:
        with pytest.raises(kind, match=words) as caught:
            await GitHubClient(http, api_url="https://x", token="ghp_topsecret99", project="a/b").get_pull(1)
    assert "ghp_topsecret99" not in str(caught.value)


async def test_connection_errors_are_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with _client(handler) as http:
        with pytest.raises(TransientError, match="cannot reach"):
            await GitLabClient(http, api_url="https://x", token="t", project="a/b").check_access()
