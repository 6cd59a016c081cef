"""Real `git` in subprocesses for the GitOps path (publish.py builds the commit with plumbing).

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
from jobs.integrations.gitops.naming import AUTHOR_EMAIL, AUTHOR_NAME

GIT_TIMEOUT = 120.0
# Given on every command line: no link is made on disk, no hook runs, a redirect never leaves the host.
HARDENING = ("-c", "core.symlinks=false", "-c", f"core.hooksPath={os.devnull}", "-c", "http.followRedirects=false",
             "-c", "credential.helper=", "-c", "init.templateDir=")
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


async def run_git(remote: Remote, *args: str, cwd: Path, stdin: bytes | None = None,
                  env: dict[str, str] | None = None, ok_codes: tuple[int, ...] = (0,)) -> str:
    """Run `git args…` in `cwd`; stdout when it exits with one of `ok_codes`, a named error otherwise."""
    proc = await asyncio.create_subprocess_exec(
        "git", *HARDENING, *args, cwd=cwd, env={**remote.env(), **(env or {})},
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(GIT_TIMEOUT):
            out, err = await proc.communicate(stdin)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise TransientError(f"git {args[0]} timed out after {GIT_TIMEOUT:.0f} s") from None
    if proc.returncode not in ok_codes:
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
