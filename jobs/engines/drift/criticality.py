"""Asset criticality: a tenant's mapping from label or name patterns to a weight in [0, 1].

Keys with `=` match labels (`"tier=db"`, `"app=postgres*"`: value may be a glob); other keys are
globs on the node key or name (`"*/payments*"`, `"10.0.9.*"`). A node's criticality is the largest
matching weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import NamedTuple

from jobs.engines.drift.nodes import NodeView


class CriticalityMatch(NamedTuple):
    weight: float
    node: str
    rule: str
    evidence: str


def validate_criticality(mapping: Mapping[str, float]) -> None:
    """Reject weights outside [0, 1]: the scorer treats them as fractions of full weight."""
    for rule, weight in mapping.items():
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"criticality weight for {rule!r} must lie in [0, 1], got {weight}")


def node_criticality(node: NodeView, mapping: Mapping[str, float]) -> CriticalityMatch | None:
    """The strongest rule matching `node`, or None."""
    best: CriticalityMatch | None = None
    for rule, weight in mapping.items():
        evidence = _rule_evidence(node, rule)
        if evidence is None or weight <= 0:
            continue
        if best is None or (weight, rule) > (best.weight, best.rule):
            best = CriticalityMatch(weight, node.key, rule, evidence)
    return best


def _rule_evidence(node: NodeView, rule: str) -> str | None:
    if "=" in rule:
        label, _, pattern = rule.partition("=")
        value = node.labels.get(label.strip())
        if value is not None and fnmatchcase(value, pattern.strip()):
            return f"{node.name} is labelled {label.strip()}={value}"
        return None
    if fnmatchcase(node.key, rule) or fnmatchcase(node.name, rule):
        return f"{node.name} matches critical asset pattern {rule}"
    return None
