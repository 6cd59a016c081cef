"""Put one policy file on its branch with git plumbing only: nothing of the tenant's repository is ever
checked out, so no file of theirs lands on disk and no link of theirs can be followed.

The work folder is a bare repository. The base branch is fetched (depth 1), the YAML becomes a blob
(`hash-object`), a private index takes the base tree plus that blob (`read-tree`, `update-index`), and
`write-tree`, `commit-tree` and `push` make and send the commit. A policy path that is, or lies under, a
symbolic link, a submodule or a file in the repository is refused.

A branch that already exists is reused only when it is exactly what SecureGuard makes: one commit by
SecureGuard whose parent is on the base branch and which changes nothing but this file, to this content.
Anything else (a `secureguard/*` branch someone else pushed, or one that does not start from the base)
is refused, so a pull request never carries commits SecureGuard did not make.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jobs.integrations.gitops.errors import BranchError, GitopsError
from jobs.integrations.gitops.git import Remote, remote_heads, run_git
from jobs.integrations.gitops.naming import AUTHOR_EMAIL, PolicyFile, yaml_text

# How many commits back along the base an existing branch's starting point is looked for.
BASE_HISTORY = 500
FILE_MODE = "100644"
NO_MODE = "000000"


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


class _Bare:
    """The bare work repository and the remote it talks to."""

    def __init__(self, remote: Remote, workdir: Path) -> None:
        self.remote, self.workdir = remote, workdir

    async def git(self, *args: str, stdin: bytes | None = None, ok_codes: tuple[int, ...] = (0,)) -> str:
        env = {"GIT_DIR": str(self.workdir), "GIT_INDEX_FILE": str(self.workdir / "sg-index")}
        return await run_git(self.remote, *args, cwd=self.workdir, stdin=stdin, env=env, ok_codes=ok_codes)

    async def fetch(self, branch: str, *, depth: int) -> str:
        """The remote's `branch` head, fetched with `depth` commits of history."""
        await self.git("fetch", "-q", "--no-tags", f"--depth={depth}", "origin",
                       f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
        return (await self.git("rev-parse", "--verify", f"refs/remotes/origin/{branch}^{{commit}}")).strip()


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


async def refuse_links(bare: _Bare, commit: str, path: str) -> None:
    """Raise unless every folder above `path` is a plain folder and `path` is absent or a regular file."""
    out = await bare.git("ls-tree", "-z", "--full-tree", commit, "--", *_prefixes(path))
    for entry in filter(None, out.split("\0")):
        meta, name = entry.split("\t", 1)
        mode, kind = meta.split()[:2]
        if mode == "120000":
            raise GitopsError(f"refused: {name} is a symbolic link in the repository; SecureGuard writes only "
                              "regular files and never through links (remove the link)")
        if mode == "160000":
            raise GitopsError(f"refused: {name} is a submodule in the repository; SecureGuard writes only regular "
                              "files in the repository itself")
        if (name == path) != (kind == "blob"):
            raise GitopsError(f"refused: {name} is a {'folder' if kind == 'tree' else 'file'} in the repository "
                              f"where the policy needs a {'file' if name == path else 'folder'}")
        if name == path and mode != FILE_MODE:
            raise GitopsError(f"refused: {name} is not a regular file in the repository (mode {mode})")


async def tree_with(bare: _Bare, base: str, path: str, blob: str) -> str:
    """The tree of `base` with `blob` at `path`, built in a private index (nothing written to a work tree)."""
    await bare.git("read-tree", base)
    await bare.git("update-index", "--add", "--cacheinfo", f"{FILE_MODE},{blob},{path}")
    return (await bare.git("write-tree")).strip()


async def _changes(bare: _Bare, parent: str, head: str) -> list[tuple[str, str, str, str]]:
    """(old mode, new mode, new blob, path) of every file `head` changes against `parent`."""
    fields = (await bare.git("diff-tree", "-r", "-z", "--no-renames", parent, head)).split("\0")
    return [(meta[1:].split()[0], meta.split()[1], meta.split()[3], name)
            for meta, name in zip(fields[0::2], fields[1::2], strict=False) if meta.startswith(":")]


async def _starts_from_base(bare: _Bare, parent: str, *, base_branch: str, base: str) -> bool:
    if parent == base:
        return True
    deeper = await bare.fetch(base_branch, depth=BASE_HISTORY)
    found = await bare.git("merge-base", parent, deeper, ok_codes=(0, 1))
    return found.strip() == parent


async def require_ours(bare: _Bare, head: str, *, branch: str, base_branch: str, base: str, path: str,
                       blob: str) -> None:
    """Raise unless `head` is the one commit SecureGuard makes for this file, on top of the base branch."""
    parents = (await bare.git("rev-list", "--parents", "-n", "1", head)).split()[1:]
    who = (await bare.git("log", "-1", "--format=%ae %ce", head)).split() if len(parents) == 1 else []
    ours = (len(parents) == 1 and who == [AUTHOR_EMAIL, AUTHOR_EMAIL]
            and await _changes(bare, parents[0], head) in ([(NO_MODE, FILE_MODE, blob, path)],
                                                          [(FILE_MODE, FILE_MODE, blob, path)])
            and await _starts_from_base(bare, parents[0], base_branch=base_branch, base=base))
    if not ours:
        raise BranchError(f"branch {branch} already exists in the repository and is not the one SecureGuard makes "
                          f"(other commits, other changes, or it does not start from {base_branch}); SecureGuard "
                          "will not build on it: delete the branch and sync again")


async def publish_policy(
    remote: Remote, policy: PolicyFile, *, base_branch: str, folder: str, workdir: Path
) -> PushResult:
    """Put `policy` on its branch (a new commit on the base; an existing branch only when it is ours) and push."""
    branch, path = policy.branch, policy.path(folder)
    workdir.mkdir(parents=True, exist_ok=True)
    bare = _Bare(remote, workdir)
    await run_git(remote, "init", "-q", "--bare", str(workdir), cwd=workdir)
    await bare.git("remote", "add", "origin", remote.url)
    heads = await remote_heads(remote, base_branch, branch, cwd=workdir)
    if base_branch not in heads:
        raise BranchError(f"base branch {base_branch!r} does not exist in the repository")
    base = await bare.fetch(base_branch, depth=1)
    await refuse_links(bare, base, path)
    blob = (await bare.git("hash-object", "-w", "--stdin", stdin=yaml_text(policy.yaml).encode())).strip()
    if branch in heads:
        head = await bare.fetch(branch, depth=2)
        await require_ours(bare, head, branch=branch, base_branch=base_branch, base=base, path=path, blob=blob)
        return PushResult(branch=branch, path=path, commit=head, branch_existed=True, pushed=False)
    tree = await tree_with(bare, base, path, blob)
    if tree == (await bare.git("rev-parse", f"{base}^{{tree}}")).strip():
        return PushResult(branch=branch, path=path, commit=base, branch_existed=False, pushed=False)
    commit = (await bare.git("commit-tree", tree, "-p", base, "-m", policy.commit_message.rstrip("\n"))).strip()
    await bare.git("push", "-q", "origin", f"{commit}:refs/heads/{branch}")
    return PushResult(branch=branch, path=path, commit=commit, branch_existed=False, pushed=True)
