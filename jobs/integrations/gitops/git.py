"""Real `git` in subprocesses, in a hardened environment, with failures named and messages kept generic.

The token never appears on a command line or in a URL: for https remotes it travels in an
`http.extraHeader` set through git's GIT_CONFIG_* environment, and every message is scrubbed of it.
Nothing of the machine's identity reaches git: no system or global config, HOME an empty folder (no
~/.ssh, ~/.netrc, credential store), ssh disabled; the only transport is https (plus local paths when
the operator sets SG_GITOPS_ALLOW_LOCAL). Git's own words go to the server log only: users see a
generic message that names no host, port or path.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import os
import tempfile
from dataclasses import dataclass, field
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
from models.settings import get_settings

logger = logging.getLogger(__name__)
GIT_TIMEOUT = 120.0
UNREACHABLE = "could not reach the repository"
# Given on every command line: no link is made on disk, no hook runs, a redirect never leaves the host.
HARDENING = ("-c", "core.symlinks=false", "-c", f"core.hooksPath={os.devnull}", "-c", "http.followRedirects=false",
             "-c", "credential.helper=", "-c", "init.templateDir=")
_AUTH = ("authentication failed", "could not read username", "invalid username or password", "access denied",
         "permission denied", "401", "403", "terminal prompts disabled", "bad credentials")
_MISSING = ("repository not found", "does not appear to be a git repository", "not found", "no such file",
            "could not read from remote repository")
_TRANSIENT = ("could not resolve host", "connection refused", "connection timed out", "operation timed out",
              "failed to connect", "couldn't connect to server",
              "connection reset", "the remote end hung up unexpectedly", "502", "503", "504",
              "internal server error", "temporary failure", "early eof")


@functools.cache
def _empty_home() -> str:
    """A private empty folder for HOME, so git and curl find no key, netrc or credential of the machine's."""
    return tempfile.mkdtemp(prefix="sg-git-home-")


def _local_allowed() -> bool:
    return get_settings().gitops_allow_local


@dataclass(frozen=True)
class Remote:
    """Where to push, and the credentials to do it with (the tenant's token only)."""

    url: str
    token: str = ""
    provider: str = "github"
    allow_local: bool = field(default_factory=_local_allowed)

    def env(self) -> dict[str, str]:
        """A clean git environment: no prompts, no machine config or identity, https only, the token as a header."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": _empty_home(), "LC_ALL": "C",
            "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_ASKPASS": "/bin/false", "SSH_ASKPASS": "/bin/false", "GIT_SSH_COMMAND": "/bin/false",
            "GIT_ALLOW_PROTOCOL": "https:file" if self.allow_local else "https", "GIT_PROTOCOL_FROM_USER": "0",
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
    """The named error for git's complaint (stderr already scrubbed); its message names no host, port or path."""
    text = stderr.lower()
    if any(word in text for word in _TRANSIENT):
        return TransientError(f"git {operation}: {UNREACHABLE}")
    if "[rejected]" in text or "non-fast-forward" in text or "fetch first" in text:
        return BranchError(f"git {operation}: the branch on the remote has commits SecureGuard did not make")
    if "couldn't find remote ref" in text:
        return BranchError(f"git {operation}: a branch is missing on the remote")
    if any(word in text for word in _AUTH):
        return AuthFailed(f"git {operation}: the repository refused the credentials; check the token and its "
                          "access to the repository")
    if any(word in text for word in _MISSING):
        return RepoNotFound(f"git {operation}: repository not found or not accessible")
    return ProviderError(f"git {operation}: {UNREACHABLE}")


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
        logger.warning("gitops: git %s timed out after %.0f s", args[0], GIT_TIMEOUT)
        raise TransientError(f"git {args[0]}: {UNREACHABLE}") from None
    if proc.returncode not in ok_codes:
        detail = remote.scrub(err.decode(errors="replace")).strip()
        logger.warning("gitops: git %s failed (exit %s): %s", args[0], proc.returncode, detail[-2000:])
        raise classify_failure(args[0], detail)
    return out.decode(errors="replace")


async def remote_heads(remote: Remote, *branches: str, cwd: Path) -> set[str]:
    """Which of `branches` exist on the remote."""
    refs = [f"refs/heads/{b}" for b in branches]
    out = await run_git(remote, "ls-remote", "--heads", "--", remote.url, *refs, cwd=cwd)
    found = {line.split("\t", 1)[1] for line in out.splitlines() if "\t" in line}
    return {b for b in branches if f"refs/heads/{b}" in found}


async def check_remote(remote: Remote, *, base_branch: str, cwd: Path) -> None:
    """Raise unless the repository answers with these credentials and has the base branch."""
    if base_branch not in await remote_heads(remote, base_branch, cwd=cwd):
        raise BranchError(f"base branch {base_branch!r} does not exist in the repository")
