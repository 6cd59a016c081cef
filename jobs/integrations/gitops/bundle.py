"""Pure download shapes: one policy's file name, and the multi-document YAML bundle of released policies.

The bundle is one YAML stream (`---` before each document, ordered as given: namespace then name),
each document preceded by a comment naming the policy, version and status; `kubectl apply -f` takes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

YAML_MIME = "application/yaml"


class PolicyLike(Protocol):
    name: str
    namespace: str
    yaml: str
    version: int
    status: str


def policy_filename(policy: PolicyLike) -> str:
    """`<namespace>-<name>.yaml` (Kubernetes names are already safe in a file name)."""
    return f"{policy.namespace}-{policy.name}.yaml"


def policy_text(policy: PolicyLike) -> str:
    """The policy's YAML with exactly one trailing newline."""
    return policy.yaml.rstrip("\n") + "\n"


def bundle_filename(tenant_name: str, now: datetime) -> str:
    """`secureguard-<tenant>-approved-<YYYYMMDD>.yaml`."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in tenant_name)[:60] or "tenant"
    return f"secureguard-{safe}-approved-{now:%Y%m%d}.yaml"


def bundle_text(policies: Sequence[PolicyLike], *, tenant_name: str, now: datetime) -> str:
    """Every policy as one multi-document YAML, with a header saying what and when."""
    header = (f"# SecureGuard NetworkPolicies of tenant {tenant_name}: {len(policies)} approved or deployed, "
              f"exported {now:%Y-%m-%d %H:%M} UTC\n")
    docs = [f"---\n# {p.namespace}/{p.name} v{p.version} ({p.status})\n{p.yaml.strip()}\n" for p in policies]
    return header + "".join(docs)
