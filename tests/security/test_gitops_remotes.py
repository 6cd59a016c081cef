"""Finding 2 of issue 16: a repository URL must not reach local paths, the machine's SSH identity or any host.
Only https on an operator-allowed host (SG_GITOPS_ALLOWED_HOSTS), local paths only when the operator says so
(SG_GITOPS_ALLOW_LOCAL); git runs with no identity of the machine's; failures show a generic message."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from jobs.integrations.gitops.errors import GitopsError
from jobs.integrations.gitops.git import UNREACHABLE, Remote, remote_heads
from models.db import session_scope
from models.policy import GitopsConfig
from models.queries import gitops as gitops_queries
from models.settings import get_settings
from state.gitops import GitopsState
from tests.apprunner import free_port
from tests.builders import make_tenant
from tests.fakes.git_providers import FakeProviders
from tests.fakes.gitops_fixtures import TOKEN, add_policy, allowing_local_repos, git, make_bare_repo, run_job
from tests.integration.conftest import running_worker
from tests.security.conftest import call_handler, seed_tenant

pytestmark = pytest.mark.integration
GOOD = {"provider": "github", "base_branch": "main", "folder": "networkpolicies"}
ALLOWED_ONLY = "must be an https:// URL on an allowed host"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("url", "message"), [
    ("file:///srv/git/acme/netpol.git", "local paths and file:// URLs are not allowed"),
    ("/srv/git/acme/netpol.git", "local paths and file:// URLs are not allowed"),
    ("ssh://git@github.com/acme/netpol.git", "ssh is not supported"),
    ("git@github.com:acme/netpol.git", "ssh is not supported"),
    ("http://github.com/acme/netpol.git", "unencrypted"),
    ("https://127.0.0.1/acme/netpol.git", "host '127.0.0.1' is not allowed"),
    ("https://169.254.169.254/latest/meta-data", "host '169.254.169.254' is not allowed"),
    ("https://10.0.0.7:8443/acme/netpol.git", "host '10.0.0.7:8443' is not allowed"),
    ("https://localhost/acme/netpol.git", "host 'localhost' is not allowed"),
    ("https://github.com.evil.test/acme/netpol.git", "is not allowed"),
    ("https://github.com:2222/acme/netpol.git", "host 'github.com:2222' is not allowed"),
    ("https://github.com/acme/netpol.git?x=1", "query"),
    ("ext::sh -c touch% /tmp/pwned", "spaces"),
])
async def test_refused_repository_urls_answer_422_and_save_nothing(
    api_client: httpx.AsyncClient, url: str, message: str
) -> None:
    acme = await make_tenant("acme", token_role="admin")
    answer = await api_client.put("/api/v1/gitops", headers=_bearer(acme.token), json={**GOOD, "repo_url": url})
    assert answer.status_code == 422, answer.text
    assert message in answer.json()["error"]["message"]
    if "not allowed" in message or "ssh" in message:
        assert ALLOWED_ONLY in answer.json()["error"]["message"]
    async with session_scope() as session:
        assert await gitops_queries.get_config(session, tenant_id=acme.tenant_id) is None


async def test_https_on_an_allowed_host_is_saved_and_the_operator_extends_the_list(
    api_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = await make_tenant("acme", token_role="admin")
    for url in ("https://github.com/acme/netpol.git", "https://GitLab.com/group/sub/netpol.git"):
        saved = await api_client.put("/api/v1/gitops", headers=_bearer(acme.token), json={**GOOD, "repo_url": url})
        assert saved.status_code == 200 and saved.json()["repo_url"] == url
    own = {**GOOD, "repo_url": "https://git.corp.example:8443/acme/netpol.git"}
    assert (await api_client.put("/api/v1/gitops", headers=_bearer(acme.token), json=own)).status_code == 422
    monkeypatch.setenv("SG_GITOPS_ALLOWED_HOSTS", "github.com,git.corp.example:8443")
    get_settings.cache_clear()
    assert (await api_client.put("/api/v1/gitops", headers=_bearer(acme.token), json=own)).status_code == 200
    gone = await api_client.put("/api/v1/gitops", headers=_bearer(acme.token),
                                json={**GOOD, "repo_url": "https://gitlab.com/acme/netpol.git"})
    assert gone.status_code == 422 and "git.corp.example:8443, github.com" in gone.json()["error"]["message"]


async def test_local_paths_only_when_the_operator_allows_them_and_never_ssh(
    api_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = await make_tenant("acme", token_role="admin")
    with allowing_local_repos(monkeypatch):
        for url in ("file:///srv/git/acme/netpol.git", "/srv/git/acme/netpol.git"):
            answer = await api_client.put("/api/v1/gitops", headers=_bearer(acme.token), json={**GOOD, "repo_url": url})
            assert answer.status_code == 200, answer.text
        for url in ("ssh://git@github.com/acme/netpol.git", "git@github.com:acme/netpol.git"):
            answer = await api_client.put("/api/v1/gitops", headers=_bearer(acme.token), json={**GOOD, "repo_url": url})
            assert answer.status_code == 422 and "ssh is not supported" in answer.text


async def test_the_page_form_refuses_a_local_path_and_an_internal_host(
    app_ctx: str, require_spy: list[tuple[str, bool]]
) -> None:
    acme = await seed_tenant("acme")
    for url, message in (("file:///etc/passwd", "local paths and file:// URLs are not allowed"),
                         ("https://169.254.169.254/a/b", "host '169.254.169.254' is not allowed")):
        call = await call_handler(GitopsState, "save_settings", ({**GOOD, "repo_url": url},), {},
                                  tenant=acme, role="admin", spy=require_spy)
        page = await call.root.get_state(GitopsState)
        assert page.message_error is True and page.message.startswith("Not saved: ") and message in page.message
    async with session_scope() as session:
        assert await gitops_queries.get_config(session, tenant_id=acme.tenant_id) is None


async def _configure_unchecked(tenant_id: int, repo_url: str) -> None:
    """A row as saved before the check existed (or by hand): the URL is refused again at every use."""
    async with session_scope() as session:
        session.add(GitopsConfig(tenant_id=tenant_id, provider="github", repo_url=repo_url, base_branch="main",
                                 folder="networkpolicies", token_encrypted=""))


@pytest.mark.parametrize("port_state", ["closed", "open, not git"])
async def test_connection_test_to_an_internal_port_shows_only_a_generic_message(
    api_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    require_spy: list[tuple[str, bool]], port_state: str,
) -> None:
    # The operator allowed the host, so only the message stands between a tenant and a port scan.
    listening = FakeProviders(token=TOKEN).start()  # an open port that speaks plain HTTP, not git over TLS
    port = free_port() if port_state == "closed" else int(listening.base_url.rsplit(":", 1)[1])
    monkeypatch.setenv("SG_GITOPS_ALLOWED_HOSTS", f"github.com,127.0.0.1:{port}")
    get_settings.cache_clear()
    acme = await seed_tenant("acme")
    body = {**GOOD, "repo_url": f"https://127.0.0.1:{port}/acme/netpol.git", "token": TOKEN}
    assert (await api_client.put("/api/v1/gitops", headers=_bearer(acme.tokens["admin"]), json=body)).status_code == 200
    with caplog.at_level(logging.WARNING, logger="jobs.integrations.gitops"):
        answer = await api_client.post("/api/v1/gitops/test", headers=_bearer(acme.tokens["admin"]))
        call = await call_handler(GitopsState, "test_connection", (), {}, tenant=acme, role="admin", spy=require_spy)
    listening.stop()
    page = await call.root.get_state(GitopsState)
    assert answer.json() == {"ok": False, "checks": [f"git ls-remote: {UNREACHABLE}"]}
    assert page.checks == [f"git ls-remote: {UNREACHABLE}"] and page.checks_ok is False
    for shown in (answer.text, " ".join(page.checks)):
        assert str(port) not in shown and "127.0.0.1" not in shown and "fatal" not in shown
    assert any(str(port) in r.getMessage() for r in caplog.records), "the detailed reason belongs in the server log"


async def test_a_url_saved_before_the_rules_is_refused_at_every_use(
    app_ctx: str, tmp_path: Path, api_client: httpx.AsyncClient
) -> None:
    bare = make_bare_repo(tmp_path)
    acme = await seed_tenant("acme")
    await _configure_unchecked(acme.tenant_id, f"file://{bare}")
    policy = await add_policy(acme.tenant_id)
    async with running_worker():
        done = await run_job("sync_gitops", acme.tenant_id, {"policy_id": policy.id})
    assert done.status == "failed" and "local paths and file:// URLs are not allowed" in done.error
    assert "secureguard/" not in git(bare, "branch", "--list")
    tested = await api_client.post("/api/v1/gitops/test", headers=_bearer(acme.tokens["admin"]))
    assert tested.json()["ok"] is False and "local paths and file:// URLs are not allowed" in tested.text


async def test_git_itself_refuses_local_and_ssh_transports_and_has_no_machine_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the URL rules: git's own protocol allow-list, no ssh, an empty HOME (no key, netrc or credential)."""
    monkeypatch.setenv("SG_GITOPS_ALLOW_LOCAL", "false")
    get_settings.cache_clear()
    bare = make_bare_repo(tmp_path)
    for url in (str(bare), f"file://{bare}", "ssh://git@127.0.0.1:1/acme/netpol.git", "git@127.0.0.1:acme/netpol"):
        with pytest.raises(GitopsError):
            await remote_heads(Remote(url=url), "main", cwd=tmp_path)
    env = Remote(url="https://github.com/acme/netpol.git").env()
    assert env["GIT_ALLOW_PROTOCOL"] == "https" and env["GIT_SSH_COMMAND"] == "/bin/false"
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_TERMINAL_PROMPT"] == "0"
    home = Path(env["HOME"])
    assert home.is_dir() and list(home.iterdir()) == [] and str(home) != str(Path.home())
    assert Remote(url=str(bare), allow_local=True).env()["GIT_ALLOW_PROTOCOL"] == "https:file"
    assert await remote_heads(Remote(url=str(bare), allow_local=True), "main", cwd=tmp_path) == {"main"}
    get_settings.cache_clear()
