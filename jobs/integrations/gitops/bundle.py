"""Pure download shapes: one policy's file name, and the multi-document YAML bundle of released policies.

The bundle is one YAML stream (`---` before each document, ordered as given: namespace then name),
each document preceded by a comment naming the policy, version and status; `kubectl apply -f` takes it.
A bundle holds one cluster's policies (issue 19 A4: it is applied to that cluster): `by_cluster` splits them, and
the file name of a cluster other than `default` names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

YAML_MIME = "application/yaml"
DEFAULT_CLUSTER = "default"


class PolicyLike(Protocol):
    name: str
    namespace: str
    cluster: str
    yaml: str
    version: int
    status: str


P = TypeVar("P", bound=PolicyLike)


def by_cluster(policies: Sequence[P]) -> dict[str, list[P]]:
    """The policies per cluster, clusters sorted, each list in the order given."""
    split: dict[str, list[P]] = {}
    for policy in policies:
        split.setdefault(policy.cluster, []).append(policy)
    return dict(sorted(split.items()))


def policy_filename(policy: PolicyLike) -> str:
    """`<namespace>-<name>.yaml`, `<cluster>-<namespace>-<name>.yaml` outside `default` (names are file-safe)."""
    prefix = "" if policy.cluster == DEFAULT_CLUSTER else f"{_safe(policy.cluster)}-"
    return f"{prefix}{policy.namespace}-{policy.name}.yaml"


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:60]


def policy_text(policy: PolicyLike) -> str:
    """The policy's YAML with exactly one trailing newline."""
    return policy.yaml.rstrip("\n") + "\n"


def bundle_filename(tenant_name: str, now: datetime, cluster: str = DEFAULT_CLUSTER) -> str:
    """`secureguard-<tenant>-approved-<YYYYMMDD>.yaml`; `secureguard-<tenant>-<cluster>-approved-…` outside
    `default`."""
    safe = _safe(tenant_name) or "tenant"
    where = "" if cluster == DEFAULT_CLUSTER else f"-{_safe(cluster)}"
    return f"secureguard-{safe}{where}-approved-{now:%Y%m%d}.yaml"


def bundle_text(
    policies: Sequence[PolicyLike], *, tenant_name: str, now: datetime, cluster: str = DEFAULT_CLUSTER
) -> str:
    """Every policy (of one cluster) as one multi-document YAML, with a header saying what, where and when."""
    where = "" if cluster == DEFAULT_CLUSTER else f" in cluster {cluster}"
    header = (f"# SecureGuard NetworkPolicies of tenant {tenant_name}{where}: {len(policies)} approved or deployed, "
              f"exported {now:%Y-%m-%d %H:%M} UTC\n")
    docs = [f"---\n# {p.namespace}/{p.name} v{p.version} ({p.status})\n{p.yaml.strip()}\n" for p in policies]
    return header + "".join(docs)
