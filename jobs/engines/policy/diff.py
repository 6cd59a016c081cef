"""Unified diff between the approved version of a policy and a candidate."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

from jobs.engines.policy.manifest import ANNOTATION_RULES, ANNOTATION_SOURCE, dump_yaml

# Provenance changes with every regeneration (counts, window); the rules are what is reviewed.
PROVENANCE_ANNOTATIONS = (ANNOTATION_SOURCE, ANNOTATION_RULES)


def diff_yaml(approved: str | None, candidate: str, *, name: str = "policy") -> str:
    """Return a unified diff from `approved` (None: no approved version yet) to `candidate`.

    Empty when the texts are equal; headers read `approved/<name>.yaml`, `candidate/<name>.yaml`.
    """
    before = (approved or "").splitlines(keepends=True)
    after = candidate.splitlines(keepends=True)
    lines = difflib.unified_diff(
        before,
        after,
        fromfile=f"approved/{name}.yaml" if approved is not None else "/dev/null",
        tofile=f"candidate/{name}.yaml",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def diff_manifests(
    approved: Mapping[str, Any] | None,
    candidate: Mapping[str, Any],
    *,
    ignore_provenance: bool = False,
) -> str:
    """Return the unified diff of two manifests dumped as deterministic YAML.

    With `ignore_provenance` the `secureguard.io/generated-from` and `secureguard.io/rules`
    annotations are left out, so only rule changes show.
    """
    name = str((candidate.get("metadata") or {}).get("name") or "policy")
    before = None if approved is None else dump_yaml(_strip(approved, ignore_provenance))
    return diff_yaml(before, dump_yaml(_strip(candidate, ignore_provenance)), name=name)


def _strip(manifest: Mapping[str, Any], ignore_provenance: bool) -> dict[str, Any]:
    if not ignore_provenance:
        return dict(manifest)
    stripped = copy.deepcopy(dict(manifest))
    annotations = (stripped.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        for key in PROVENANCE_ANNOTATIONS:
            annotations.pop(key, None)
        if not annotations:
            stripped["metadata"].pop("annotations")
    return stripped
