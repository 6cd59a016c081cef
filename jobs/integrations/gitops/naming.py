"""Pure naming rules: the branch, the file path, the commit and pull request texts, the provider project.

Clusters (issue 19 A4): a policy of the cluster `default` (single-cluster data) keeps the path and branch it always
had; another cluster's policy lives under its cluster, `<folder>/<cluster>/<namespace>/<name>.yaml`, on branch
`secureguard/<cluster>-<namespace>-<name>-v<version>`, so each cluster's Git folder holds only its own policies.

The provider project comes from the repository URL: `https://github.com/acme/netpol.git` and
`git@github.com:acme/netpol.git` name `acme/netpol`; GitLab keeps nested groups (`group/sub/proj`).
A local path or file:// URL (a mirror, or a test's bare repository) names its last two segments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from jobs.integrations.gitops.errors import GitopsError

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
# a cluster name is a label value (jobs.engines.flows.schema.CLUSTER_PATTERN): safe in a path and a branch
_CLUSTER = re.compile(r"^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
DEFAULT_CLUSTER = "default"
AUTHOR_NAME = "SecureGuard"
AUTHOR_EMAIL = "secureguard@localhost"


@dataclass(frozen=True)
class PolicyFile:
    """What one policy version becomes in Git."""

    namespace: str
    name: str
    version: int
    yaml: str
    cluster: str = DEFAULT_CLUSTER

    def __post_init__(self) -> None:
        if not _CLUSTER.match(self.cluster) or ".." in self.cluster:
            raise GitopsError(f"cluster {self.cluster!r} is not a valid cluster name")
        # These land in a path and a branch name: only Kubernetes-valid names get there.
        if len(self.namespace) > 63 or not _LABEL.match(self.namespace):
            raise GitopsError(f"namespace {self.namespace!r} is not a valid Kubernetes namespace name")
        if len(self.name) > 253 or not _SUBDOMAIN.match(self.name):
            raise GitopsError(f"policy name {self.name!r} is not a valid Kubernetes object name")
        if self.version < 1:
            raise GitopsError(f"policy version must be 1 or more, not {self.version}")

    @property
    def _elsewhere(self) -> bool:
        return self.cluster != DEFAULT_CLUSTER

    @property
    def qualified(self) -> str:
        """`namespace/name`, or `cluster/namespace/name` outside the cluster `default`."""
        return f"{self.cluster}/{self.namespace}/{self.name}" if self._elsewhere else f"{self.namespace}/{self.name}"

    @property
    def branch(self) -> str:
        """`secureguard/[<cluster>-]<namespace>-<name>-v<version>`: one branch per policy version."""
        prefix = f"{self.cluster}-" if self._elsewhere else ""
        return f"secureguard/{prefix}{self.namespace}-{self.name}-v{self.version}"

    def path(self, folder: str) -> str:
        """`<folder>/[<cluster>/]<namespace>/<name>.yaml` (folder '' is the repository root)."""
        cluster = self.cluster if self._elsewhere else ""
        return "/".join(part for part in (folder.strip("/"), cluster, self.namespace, f"{self.name}.yaml") if part)

    @property
    def commit_message(self) -> str:
        """Subject line plus a body saying where it came from."""
        return (f"Add NetworkPolicy {self.qualified} (v{self.version})\n\n"
                f"Approved in SecureGuard; generated from observed traffic.\n")

    @property
    def title(self) -> str:
        """The pull/merge request title."""
        return f"SecureGuard: NetworkPolicy {self.qualified} v{self.version}"

    def body(self, path: str) -> str:
        """The pull/merge request description."""
        return (f"Least-privilege NetworkPolicy `{self.qualified}` (version {self.version}), "
                f"approved in SecureGuard.\n\nFile: `{path}`\n\nIt allows exactly the traffic SecureGuard observed; "
                "merging it marks the policy deployed.")


def yaml_text(yaml: str) -> str:
    """The file content: the policy's YAML with exactly one trailing newline."""
    return yaml.rstrip("\n") + "\n"


def project_path(repo_url: str, provider: str) -> str:
    """The provider's `owner/repo` (GitHub) or full project path (GitLab) named by the repository URL."""
    url = repo_url.strip()
    local = False
    if "://" in url:
        parts = urlsplit(url)
        path, local = parts.path, parts.scheme == "file"
    elif url.startswith("/"):
        path, local = url, True
    else:  # scp-like git@host:group/repo.git
        path = url.split(":", 1)[1] if ":" in url else url
    segments = [s for s in path.strip("/").split("/") if s]
    if segments and segments[-1].endswith(".git"):
        segments[-1] = segments[-1][:-4]
    keep = 2 if (local or provider == "github") else len(segments)
    if len(segments) < 2 or not all(segments[-keep:]):
        raise GitopsError(f"cannot tell the {provider} project from {repo_url!r}: expected …/owner/repository")
    return "/".join(segments[-keep:])
