"""Pure GitOps rules: settings validation, branch/path naming, provider project, git error names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from jobs.integrations.gitops.errors import (
    AuthFailed,
    BranchError,
    GitopsError,
    ProviderError,
    RepoNotFound,
    TransientError,
)
from jobs.integrations.gitops.git import Remote, classify_failure
from jobs.integrations.gitops.naming import PolicyFile, project_path, yaml_text
from jobs.runtime.redact import safe_error
from models.queries.gitops import validate_branch, validate_folder, validate_provider, validate_repo_url
from models.settings import Settings

HOSTS = frozenset({"github.com", "gitlab.example.com:8443"})


@pytest.mark.parametrize("url", [
    "https://github.com/acme/netpol.git", "https://github.com:443/acme/netpol.git",
    "https://gitlab.example.com:8443/g/sub/p.git", "file:///srv/git/netpol.git", "/srv/git/acme/netpol.git",
])
def test_accepted_repository_urls(url: str) -> None:
    assert validate_repo_url(f"  {url} ", allowed_hosts=HOSTS, allow_local=True) == url


@pytest.mark.parametrize(("url", "message"), [
    ("", "required"), ("-uhack", "must not start with '-'"), ("https://user:pw@github.com/a/b", "credentials"),
    ("http://github.com/a/b", "unencrypted"), ("relative/path", "absolute path"), ("/srv/my repo", "spaces"),
    ("ftp://x/y", "https://"), ("ssh://git@github.com/a/b.git", "ssh is not supported"),
    ("git@github.com:acme/netpol.git", "ssh is not supported"), ("https://gitlab.example.com/g/p", "not allowed"),
    ("https://github.com:99999/a/b", "port"), ("https://github.com/", "names no repository"),
    ("file://host/srv/x.git", "not allowed"),
])
def test_refused_repository_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_repo_url(url, allowed_hosts=HOSTS, allow_local=True)


@pytest.mark.parametrize("url", ["file:///srv/git/netpol.git", "/srv/git/acme/netpol.git"])
def test_local_repositories_only_when_allowed(url: str) -> None:
    with pytest.raises(ValueError, match="local paths and file:// URLs are not allowed"):
        validate_repo_url(url, allowed_hosts=HOSTS, allow_local=False)


@pytest.mark.parametrize("name", ["main", "release/2026.11", "env_prod-1"])
def test_good_branches(name: str) -> None:
    assert validate_branch(name) == name


@pytest.mark.parametrize("name", ["", "-f", "a..b", "a//b", "x/", "x.lock", "a b", "a@{1}", "../main", "x~1"])
def test_bad_branches(name: str) -> None:
    with pytest.raises(ValueError):
        validate_branch(name)


def test_folders() -> None:
    assert validate_folder("networkpolicies") == "networkpolicies"
    assert validate_folder("clusters/prod/") == "clusters/prod"
    assert validate_folder("") == ""
    for bad in ("/etc", "a/../b", "..", "-x", ".hidden", "a b", "a//b"):
        with pytest.raises(ValueError):
            validate_folder(bad)


def test_provider() -> None:
    assert validate_provider("GitLab") == "gitlab"
    with pytest.raises(ValueError, match="github, gitlab"):
        validate_provider("bitbucket")


def test_branch_path_and_texts() -> None:
    policy = PolicyFile("shop", "api.v2", 3, "kind: NetworkPolicy\n\n")
    assert policy.branch == "secureguard/shop-api.v2-v3"
    assert policy.path("networkpolicies") == "networkpolicies/shop/api.v2.yaml"
    assert policy.path("") == "shop/api.v2.yaml"
    assert policy.commit_message.startswith("Add NetworkPolicy shop/api.v2 (v3)\n\n")
    assert "shop/api.v2" in policy.title and "networkpolicies/shop/api.v2.yaml" in policy.body("networkpolicies/shop/api.v2.yaml")
    assert yaml_text("a: 1\n\n\n") == "a: 1\n"


@pytest.mark.parametrize(("namespace", "name"), [("../etc", "x"), ("shop", "-rf"), ("Shop", "x"), ("shop", "a/b")])
def test_unsafe_names_never_reach_a_path(namespace: str, name: str) -> None:
    with pytest.raises(GitopsError):
        PolicyFile(namespace, name, 1, "")


@pytest.mark.parametrize(("url", "provider", "project"), [
    ("https://github.com/acme/netpol.git", "github", "acme/netpol"),
    ("git@github.com:acme/netpol.git", "github", "acme/netpol"),
    ("https://gitlab.com/group/sub/proj.git", "gitlab", "group/sub/proj"),
    ("ssh://git@gitlab.com/group/sub/proj", "gitlab", "group/sub/proj"),
    ("/tmp/x/acme/netpol.git", "gitlab", "acme/netpol"),
    ("file:///tmp/x/acme/netpol.git", "github", "acme/netpol"),
])
def test_project_path(url: str, provider: str, project: str) -> None:
    assert project_path(url, provider) == project


def test_project_path_needs_owner_and_repo() -> None:
    with pytest.raises(GitopsError, match="owner/repository"):
        project_path("https://github.com/onlyone", "github")


@pytest.mark.parametrize(("stderr", "kind"), [
    ("fatal: Authentication failed for 'https://github.com/a/b.git/'", AuthFailed),
    ("remote: Invalid username or password.\nfatal: Authentication failed", AuthFailed),
    ("git@github.com: Permission denied (publickey).", AuthFailed),
    ("remote: Repository not found.\nfatal: repository 'https://github.com/a/b.git/' not found", RepoNotFound),
    ("fatal: '/tmp/nowhere' does not appear to be a git repository", RepoNotFound),
    ("fatal: couldn't find remote ref refs/heads/main", BranchError),
    (" ! [rejected]        x -> x (fetch first)", BranchError),
    ("fatal: unable to access 'https://x/': Could not resolve host: x", TransientError),
    ("error: RPC failed; HTTP 503", TransientError),
    ("fatal: something odd", ProviderError),
])
def test_git_failures_get_named(stderr: str, kind: type[Exception]) -> None:
    assert isinstance(classify_failure("push", stderr), kind)


def test_remote_scrubs_token_and_its_basic_form_and_passes_it_only_in_env() -> None:
    remote = Remote("https://github.com/a/b.git", token="ghp_SECRET1234567890", provider="github")
    env = remote.env()
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader" and env["GIT_CONFIG_VALUE_0"].startswith("Authorization: Basic ")
    basic = env["GIT_CONFIG_VALUE_0"].split()[-1]
    assert remote.scrub(f"header {basic} and ghp_SECRET1234567890") == "header *** and ***"
    assert "GIT_CONFIG_KEY_0" not in Remote("/srv/a/b.git", token="t").env()


def test_redaction_masks_provider_tokens() -> None:
    text = safe_error("push with ghp_abcdefghijklmnop and glpat-abcdefghijkl and github_pat_11AAAAAA_bbbbbbbb")
    assert "abcdefghijklmnop" not in text and "abcdefghijkl" not in text and "11AAAAAA" not in text


def test_operator_host_list_is_read_and_checked() -> None:
    assert Settings(env="test").gitops_hosts == {"github.com", "gitlab.com"}
    assert Settings(env="test").gitops_allow_local is False
    own = Settings(env="test", gitops_allowed_hosts=" GitHub.com , git.corp.example:8443 ")
    assert own.gitops_hosts == {"github.com", "git.corp.example:8443"}
    for bad in ("https://github.com", "git@github.com", "github.com/acme", "host:99999", "a b"):
        with pytest.raises(ValidationError, match="SG_GITOPS_ALLOWED_HOSTS"):
            Settings(env="test", gitops_allowed_hosts=bad)
