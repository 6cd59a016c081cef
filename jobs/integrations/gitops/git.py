"""Real `git` in subprocesses: fetch the base (or the existing branch), write the policy file, commit, push.

The token never appears on a command line or in a URL: for https remotes it travels in an
`http.extraHeader` set through git's GIT_CONFIG_* environment, and every message is scrubbed of it.
SSH remotes use the machine's keys (BatchMode: fail rather than prompt).
"""

from __future__ import annotations

import asyncio
import base64
import os
from dataclasses import dataclass
from pathlib import Path

from jobs.integrations.gitops.errors import (
    AuthFailed,
    BranchError,
    GitopsError,
    ProviderError,
    RepoNotFound,
    TransientError,
)
from jobs.integrations.gitops.naming import AUTHOR_EMAIL, AUTHOR_NAME, PolicyFile, yaml_text

GIT_TIMEOUT = 120.0
_AUTH = ("authentication failed", "could not read username", "invalid username or password", "access denied",
         "permission denied", "401", "403", "terminal prompts disabled", "bad credentials")
_MISSING = ("repository not found", "does not appear to be a git repository", "not found", "no such file",
            "could not read from remote repository")
_TRANSIENT = ("could not resolve host", "connection refused", "connection timed out", "operation timed out",
              "connection reset", "the remote end hung up unexpectedly", "502", "503", "504",
              "internal server error", "temporary failure", "early eof")


@dataclass(frozen=True)
class Remote:
    """Where to push, and the credentials to do it with."""

    url: str
    token: str = ""
    provider: str = "github"

    def env(self) -> dict[str, str]:
        """A clean git environment: no prompts, no user or system config, the token as an HTTP header."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), "LC_ALL": "C",
            "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
            "GIT_AUTHOR_NAME": AUTHOR_NAME, "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
            "GIT_COMMITTER_NAME": AUTHOR_NAME, "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
        }
        if self.token and self.url.startswith("https://"):
            user = "x-access-token" if self.provider == "github" else "oauth2"
            basic = base64.b64encode(f"{user}:{self.token}".encode()).decode()
            env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraHeader",
                       GIT_CONFIG_VALUE_0=f"Authorization: Basic {basic}")
        return env

    def scrub(self, text: str) -> str:
        """`text` without the token in any form git could echo."""
        if not self.token:
            return text
        basic_forms = [base64.b64encode(f"{u}:{self.token}".encode()).decode() for u in ("x-access-token", "oauth2")]
        for secret in (self.token, *basic_forms):
            text = text.replace(secret, "***")
        return text


@dataclass(frozen=True)
class PushResult:
    """What the push did: `pushed` False means the remote already had this exact content."""

    branch: str
    path: str
    commit: str
    branch_existed: bool
    pushed: bool

    @property
    def same_as_base(self) -> bool:
        """The base branch already holds this YAML: there is nothing to propose."""
        return not self.branch_existed and not self.pushed


def classify_failure(operation: str, stderr: str) -> GitopsError | TransientError:
    """The named error for git's complaint (stderr already scrubbed)."""
    text = stderr.lower()
    detail = next((line.strip() for line in reversed(stderr.strip().splitlines()) if line.strip()), "no output")
    if any(word in text for word in _TRANSIENT):
        return TransientError(f"git {operation}: the remote could not be reached ({detail})")
    if "[rejected]" in text or "non-fast-forward" in text or "fetch first" in text:
        return BranchError(f"git {operation}: the branch on the remote has commits SecureGuard did not make ({detail})")
    if "couldn't find remote ref" in text:
        return BranchError(f"git {operation}: a branch is missing on the remote ({detail})")
    if any(word in text for word in _AUTH):
        return AuthFailed(f"git {operation}: the repository refused the credentials; check the token and its "
                          f"access to the repository ({detail})")
    if any(word in text for word in _MISSING):
        return RepoNotFound(f"git {operation}: repository not found or not accessible ({detail})")
    return ProviderError(f"git {operation} failed: {detail}")


async def run_git(remote: Remote, *args: str, cwd: Path) -> str:
    """Run `git args…` in `cwd`; stdout on success, a named error otherwise."""
    proc = await asyncio.create_subprocess_exec(
        "git", *args, cwd=cwd, env=remote.env(), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(GIT_TIMEOUT):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise TransientError(f"git {args[0]} timed out after {GIT_TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        raise classify_failure(args[0], remote.scrub(err.decode(errors="replace")))
    return out.decode(errors="replace")


async def remote_heads(remote: Remote, *branches: str, cwd: Path) -> set[str]:
    """Which of `branches` exist on the remote."""
    refs = [f"refs/heads/{b}" for b in branches]
    out = await run_git(remote, "ls-remote", "--heads", remote.url, *refs, cwd=cwd)
    found = {line.split("\t", 1)[1] for line in out.splitlines() if "\t" in line}
    return {b for b in branches if f"refs/heads/{b}" in found}


async def check_remote(remote: Remote, *, base_branch: str, cwd: Path) -> None:
    """Raise unless the repository answers with these credentials and has the base branch."""
    if base_branch not in await remote_heads(remote, base_branch, cwd=cwd):
        raise BranchError(f"base branch {base_branch!r} does not exist in the repository")


async def publish_policy(
    remote: Remote, policy: PolicyFile, *, base_branch: str, folder: str, workdir: Path
) -> PushResult:
    """Put `policy` on its branch (from the base, or on top of the branch when it exists) and push it."""
    branch, path = policy.branch, policy.path(folder)
    workdir.mkdir(parents=True, exist_ok=True)
    await run_git(remote, "init", "-q", str(workdir), cwd=workdir)
    await run_git(remote, "remote", "add", "origin", remote.url, cwd=workdir)
    heads = await remote_heads(remote, base_branch, branch, cwd=workdir)
    if base_branch not in heads:
        raise BranchError(f"base branch {base_branch!r} does not exist in the repository")
    start = branch if branch in heads else base_branch
    await run_git(remote, "fetch", "-q", "--depth=1", "origin", f"+refs/heads/{start}:refs/remotes/origin/{start}",
                  cwd=workdir)
    await run_git(remote, "checkout", "-q", "-B", branch, f"refs/remotes/origin/{start}", "--", cwd=workdir)
    target = workdir / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml_text(policy.yaml), encoding="utf-8")
    await run_git(remote, "add", "--", path, cwd=workdir)
    changed = bool((await run_git(remote, "status", "--porcelain", "--", path, cwd=workdir)).strip())
    if changed:
        await run_git(remote, "commit", "-q", "-m", policy.commit_message, cwd=workdir)
        await run_git(remote, "push", "-q", "origin", f"refs/heads/{branch}:refs/heads/{branch}", cwd=workdir)
    commit = (await run_git(remote, "rev-parse", "HEAD", cwd=workdir)).strip()
    return PushResult(branch=branch, path=path, commit=commit, branch_existed=branch in heads, pushed=changed)
