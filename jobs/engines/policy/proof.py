"""Generate and prove in one call: what the `generate_policies` job stores.

Each generated policy is validated (schema, API-server field rules) and the whole set is checked
by the evaluator against the traffic it came from; the set-wide verdict is split per policy
(`preview.policy_verifications`). The rules' fingerprint ignores the provenance annotations, so
regenerating unchanged traffic from a later window yields the same fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jobs.engines.policy.diff import PROVENANCE_ANNOTATIONS
from jobs.engines.policy.evaluate import verify
from jobs.engines.policy.generate import GeneratedPolicy, SkippedWorkload, generate_policies
from jobs.engines.policy.generation_input import observations, workload_part
from jobs.engines.policy.preview import policy_verifications
from jobs.engines.policy.union import Snapshot
from jobs.engines.policy.validate import validate_manifest

VERIFY_LIMIT = 5000


@dataclass(frozen=True, slots=True)
class ProvenPolicy:
    """A generated policy with its YAML, notes, rules fingerprint and its share of the proof."""

    name: str
    namespace: str
    workload: str
    yaml: str
    notes: list[str]
    rules_sha256: str
    verification: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ProvenSet:
    """All policies of one run, the workloads that got none, and the set-wide verdict."""

    policies: list[ProvenPolicy]
    skipped: list[SkippedWorkload]
    exact: bool
    allowed_not_observed: int
    observed_not_allowed: int
    invalid: list[str] = field(default_factory=list)
    windows: int = 0
    workload_windows: int = 0


def rules_fingerprint(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest (canonical JSON) without the provenance annotations."""
    metadata = dict(manifest.get("metadata") or {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k not in PROVENANCE_ANNOTATIONS}
    stripped = {**manifest, "metadata": {**metadata, "annotations": annotations}}
    return hashlib.sha256(json.dumps(stripped, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def generate_and_prove(snapshots: Sequence[Snapshot], *, snapshot_ids: Sequence[int] = ()) -> ProvenSet:
    """Generate one policy per identifiable workload of the union of `snapshots`, validate each and
    verify the set; unidentifiable workloads come back in `skipped` with the reason.

    Only the windows' workload part takes part (`generation_input.workload_part`: the proof is the same);
    each policy's verification also carries its workload's observation (span, flows, windows).
    """
    part = workload_part(snapshots)
    if not part:
        return ProvenSet(policies=[], skipped=[], exact=True, allowed_not_observed=0, observed_not_allowed=0,
                         windows=len(snapshots), workload_windows=0)
    seen = observations(part)
    result = generate_policies(part, snapshot_ids=list(snapshot_ids))
    proof = verify(result.manifests(), result.nodes, result.edges, limit=VERIFY_LIMIT)
    shares = policy_verifications([p.workload for p in result.policies], proof, result.edges)
    proven, invalid = [], []
    for policy, share in zip(result.policies, shares, strict=True):
        errors = validate_manifest(policy.manifest, client_model=False).errors
        if errors:
            invalid.append(f"{policy.namespace}/{policy.name}")
        watched = seen[policy.workload].public() if policy.workload in seen else {"observed_flows": 0}
        proven.append(_proven(policy, {**share, **watched, "schema_errors": errors}))
    return ProvenSet(
        policies=proven, skipped=result.skipped, exact=proof.exact,
        allowed_not_observed=proof.allowed_not_observed_count, observed_not_allowed=proof.observed_not_allowed_count,
        invalid=invalid, windows=len(snapshots), workload_windows=len(part),
    )


def _proven(policy: GeneratedPolicy, verification: dict[str, Any]) -> ProvenPolicy:
    return ProvenPolicy(
        name=policy.name, namespace=policy.namespace, workload=policy.workload, yaml=policy.yaml,
        notes=list(policy.notes), rules_sha256=rules_fingerprint(policy.manifest), verification=verification,
    )
