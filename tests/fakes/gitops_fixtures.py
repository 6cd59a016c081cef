"""Shared pieces of the GitOps tests: a real bare repository, the fake provider API on loopback, policies."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobs.runtime.queue import enqueue_job
from models.db import session_scope
from models.policy import Policy
from models.queries import gitops as gitops_queries
from models.queries import jobs as job_queries
from models.settings import get_settings
from tests.fakes.git_providers import FakeProviders

TOKEN = "ghp_TestToken0123456789abcdef"
PROJECT = "acme/netpol"
POLICY_YAML = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: reviews
  namespace: bookinfo
spec:
  podSelector:
    matchLabels:
      app: reviews
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: productpage
    ports:
    - protocol: TCP
      port: 9080
"""


def git(cwd: Path, *args: str, email: str = "seed@test") -> str:
    """Run git for a test's own checks (plain subprocess, no SecureGuard code); commits by `email`."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env={"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "HOME": str(cwd),
                               "PATH": "/usr/bin:/bin", "GIT_AUTHOR_NAME": "Seed", "GIT_AUTHOR_EMAIL": email,
                               "GIT_COMMITTER_NAME": "Seed", "GIT_COMMITTER_EMAIL": email})
    return done.stdout


def make_bare_repo(root: Path) -> Path:
    """`<root>/acme/netpol.git`, a bare repository whose `main` has one commit (a README)."""
    bare = root / "acme" / "netpol.git"
    bare.mkdir(parents=True)
    git(bare, "init", "-q", "--bare", "--initial-branch=main")
    seed = root / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "--initial-branch=main")
    (seed / "README.md").write_text("policies\n")
    git(seed, "add", "README.md")
    git(seed, "commit", "-q", "-m", "seed")
    git(seed, "push", "-q", str(bare), "main:main")
    return bare


def push_commit(bare: Path, branch: str, *, files: dict[str, str] | None = None, links: dict[str, str] | None = None,
                on: str | None = "main", email: str = "seed@test", message: str = "change") -> str:
    """Push one commit to `branch` of `bare` (on top of branch `on`, or a root commit when None): `files`
    written as text, `links` made symbolic links to their targets; returns the commit's id."""
    work = bare.parent / f"work-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    git(work, "init", "-q", "--initial-branch=tmp")
    if on is not None:
        git(work, "fetch", "-q", str(bare), f"refs/heads/{on}")
        git(work, "checkout", "-q", "FETCH_HEAD")
    for rel, text in (files or {}).items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    for rel, target in (links or {}).items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, work / rel)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message, email=email)
    git(work, "push", "-q", "-f", str(bare), f"HEAD:refs/heads/{branch}")
    return git(work, "rev-parse", "HEAD").strip()


@contextlib.contextmanager
def allowing_local_repos(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The operator setting that lets repositories be local paths or file:// URLs (the tests' bare repositories)."""
    monkeypatch.setenv("SG_GITOPS_ALLOW_LOCAL", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@contextlib.contextmanager
def serving_fake_providers(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviders]:
    """The fake GitHub/GitLab API, with the settings of this test pointing at it and local repositories allowed."""
    fake = FakeProviders(token=TOKEN, projects={PROJECT}).start()
    monkeypatch.setenv("SG_GITHUB_API_URL", fake.github_url)
    monkeypatch.setenv("SG_GITLAB_API_URL", fake.gitlab_url)
    with allowing_local_repos(monkeypatch):
        yield fake
    fake.stop()


async def add_policy(tenant_id: int, *, name: str = "reviews", namespace: str = "bookinfo", yaml: str = POLICY_YAML,
                     status: str = "approved", version: int = 1) -> Policy:
    """A policy row as the review workflow leaves it."""
    async with session_scope() as session:
        policy = Policy(tenant_id=tenant_id, name=name, namespace=namespace, yaml=yaml, status=status,
                        version=version)
        session.add(policy)
        await session.flush()
    return policy


async def configure(tenant_id: int, repo: Path | str, *, provider: str = "github", token: str = TOKEN) -> None:
    async with session_scope() as session:
        await gitops_queries.put_config(session, tenant_id=tenant_id, actor="admin@test", provider=provider,
                                        repo_url=str(repo), base_branch="main", folder="networkpolicies",
                                        token=token)


async def run_job(name: str, tenant_id: int, params: dict[str, Any] | None = None, *, key: str | None = None,
                  within: float = 30) -> Any:
    """Queue a job and wait until it finished (succeeded or failed)."""
    run = await enqueue_job(name, tenant_id=tenant_id, triggered_by="tester", params=params, key=key)
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with session_scope() as session:
            found = await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=run.id or 0)
        if found.status in ("succeeded", "failed", "cancelled"):
            return found
        assert asyncio.get_running_loop().time() < deadline, f"{name} stuck in {found.status}"
        await asyncio.sleep(0.05)
