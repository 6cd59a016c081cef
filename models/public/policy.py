"""Policies, their reviews and proof, impact and coverage, and the GitOps side, as answers show them."""

from __future__ import annotations

from typing import Any

from models.policy import GitopsConfig, Policy, PolicyReview, PullRequest
from models.public.base import IsoText, IsoTime, PublicModel


class ConnectionPublic(PublicModel):
    """Traffic from `src` to `dst`; `end_port` set when it stands for a port range."""

    src: str
    dst: str
    protocol: str
    port: int | None
    end_port: int | None


class VerificationPublic(PublicModel):
    """A policy's proof: allowed versus observed connections, and its schema check."""

    exact: bool
    observed: int
    allowed_not_observed: list[ConnectionPublic]
    observed_not_allowed: list[ConnectionPublic]
    allowed_not_observed_count: int
    observed_not_allowed_count: int
    schema_valid: bool
    schema_errors: list[str]
    observed_from: str | None = None
    observed_to: str | None = None
    observed_flows: int | None = None
    observed_windows: int | None = None

    @classmethod
    def of(cls, check: dict[str, Any]) -> VerificationPublic:
        """The stored verification (missing keys read as empty, as older versions stored fewer)."""
        return cls(
            exact=bool(check.get("exact", False)), observed=int(check.get("observed", 0)),
            allowed_not_observed=list(check.get("allowed_not_observed", [])),
            observed_not_allowed=list(check.get("observed_not_allowed", [])),
            allowed_not_observed_count=int(check.get("allowed_not_observed_count", 0)),
            observed_not_allowed_count=int(check.get("observed_not_allowed_count", 0)),
            schema_valid=not check.get("schema_errors"), schema_errors=list(check.get("schema_errors", [])),
            observed_from=check.get("observed_from"), observed_to=check.get("observed_to"),
            observed_flows=check.get("observed_flows"), observed_windows=check.get("observed_windows"),
        )


class PolicyPublic(PublicModel):
    """A policy version (docs/architecture.md, "REST"; plus version and provenance)."""

    id: int
    name: str
    namespace: str
    cluster: str
    workload: str
    status: str
    version: int
    yaml: str
    notes: list[str]
    snapshot_ids: list[int]
    submitted_by: str
    created_at: IsoTime
    updated_at: IsoTime
    verification: VerificationPublic

    @classmethod
    def of(cls, row: Policy) -> PolicyPublic:
        """The public view of a stored policy version."""
        return cls(**_policy_fields(row))


def _policy_fields(row: Policy) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "namespace": row.namespace, "cluster": row.cluster,
        "workload": row.target, "status": row.status,
        "version": row.version, "yaml": row.yaml, "notes": list(row.notes), "snapshot_ids": list(row.snapshot_ids),
        "submitted_by": row.submitted_by, "created_at": row.created_at, "updated_at": row.updated_at,
        "verification": VerificationPublic.of(row.verification or {}),
    }


class ReviewPublic(PublicModel):
    """A submission or decision on a policy version."""

    reviewer: str
    decision: str
    reason: str
    at: IsoTime

    @classmethod
    def of(cls, row: PolicyReview) -> ReviewPublic:
        """The public view of a stored review."""
        return cls(reviewer=row.reviewer, decision=row.decision, reason=row.reason, at=row.created_at)


class PolicyDetailPublic(PolicyPublic):
    """One policy version with the version in force (`approved_id`), the diff against it and its reviews."""

    approved_id: int | None
    diff: str
    reviews: list[ReviewPublic]

    @classmethod
    def detail(cls, row: Policy, *, approved: Policy | None, diff: str,
               reviews: list[PolicyReview]) -> PolicyDetailPublic:
        """`row` with the approved version it would replace, their diff and its reviews."""
        return cls(**_policy_fields(row), approved_id=approved.id if approved else None, diff=diff,
                   reviews=[ReviewPublic.of(r) for r in reviews])


class GitopsConfigPublic(PublicModel):
    """A tenant's Git settings: never the token, only whether one is set."""

    configured: bool
    provider: str
    repo_url: str
    base_branch: str
    folder: str
    token_set: bool
    updated_at: IsoTime | None

    @classmethod
    def of(cls, config: GitopsConfig | None) -> GitopsConfigPublic:
        """The stored settings, or the defaults (`configured: false`) when none were saved."""
        if config is None:
            return cls(configured=False, provider="github", repo_url="", base_branch="main",
                       folder="networkpolicies", token_set=False, updated_at=None)
        return cls(configured=bool(config.repo_url), provider=config.provider, repo_url=config.repo_url,
                   base_branch=config.base_branch, folder=config.folder, token_set=bool(config.token_encrypted),
                   updated_at=config.updated_at)


class PullPublic(PublicModel):
    """A pull/merge request of a policy's branch."""

    id: int
    policy_id: int
    url: str
    number: int | None
    branch: str
    state: str
    created_at: IsoTime
    updated_at: IsoTime

    @classmethod
    def of(cls, pull: PullRequest) -> PullPublic:
        """The public view of a stored pull request."""
        return cls(**_pull_fields(pull))


def _pull_fields(pull: PullRequest) -> dict[str, Any]:
    return {"id": pull.id, "policy_id": pull.policy_id, "url": pull.url, "number": pull.number,
            "branch": pull.branch, "state": pull.state, "created_at": pull.created_at, "updated_at": pull.updated_at}


class PullWithPolicyPublic(PullPublic):
    """A pull request with the policy version it carries."""

    policy_name: str
    policy_namespace: str
    policy_version: int
    policy_status: str

    @classmethod
    def with_policy(cls, pull: PullRequest, policy: Policy) -> PullWithPolicyPublic:
        """`pull` with its policy's name, namespace, version and status."""
        return cls(**_pull_fields(pull), policy_name=policy.name, policy_namespace=policy.namespace,
                   policy_version=policy.version, policy_status=policy.status)


class NamespaceCoveragePublic(PublicModel):
    """How many of a namespace's edges (in one cluster: `default` for single-cluster data) policies in force
    govern."""

    cluster: str = "default"
    namespace: str
    edges: int
    covered: int
    percent: float


class CoveragePublic(PublicModel):
    """Per (cluster, namespace), the share of the newest workload-holding snapshot's edges that approved or
    deployed policies govern; `ready_snapshots` counts all ready snapshots."""

    snapshot_id: int | None
    window_start: str | None
    ready_snapshots: int
    namespaces: list[NamespaceCoveragePublic]
    edges: int
    covered: int


class BlockedEdgePublic(PublicModel):
    """An observed edge a policy would newly deny, its traffic summed over the snapshots."""

    src: str
    dst: str
    dst_port: int | None
    protocol: str
    bytes: int
    packets: int
    flows: int
    snapshots: int
    first_seen: IsoText
    last_seen: IsoText
    side: str
    policies: list[str]


class ImpactPublic(PublicModel):
    """The flows that approving a policy would block, over the newest windows holding workloads of its
    namespace (`snapshots` of them, from `windows_from` to `windows_to`, `checked_flows` flows touching the
    pods it selects)."""

    policy_id: int
    namespace: str
    snapshot_ids: list[int]
    snapshots: int
    windows_from: str | None
    windows_to: str | None
    checked_flows: int
    checked_edges: int
    selected: list[str]
    blocked: list[BlockedEdgePublic]
    blocked_edges: int
    blocked_flows: int
