"""Pod labels as NetworkPolicy selectors see them, the stable subset the generator selects on,
namespace labels, and label-selector matching.

Flow sources report labels in their own dialect: Hubble prefixes every label with its source
(`k8s:app=reviews`, `reserved:world`) and adds Cilium-derived ones (`io.cilium.k8s.policy.*`,
`io.kubernetes.pod.namespace`) that are not on the pod object, so no selector can match them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jobs.engines.policy.errors import PolicyError
from jobs.engines.snapshot.types import NodeRecord

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
K8S_SOURCE = "k8s:"
CILIUM_NAMESPACE_LABEL = "io.cilium.k8s.namespace.labels."
# Cilium computes these from the pod spec and namespace; the Kubernetes API never shows them.
DERIVED_PREFIXES = ("io.cilium.k8s.", "io.kubernetes.pod.")

# Set per pod or per rollout by controllers: a selector on them misses the next replica.
UNSTABLE_KEYS = frozenset(
    {
        "pod-template-hash",
        "controller-revision-hash",
        "pod-template-generation",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "controller-uid",
        "job-name",
        "batch.kubernetes.io/controller-uid",
        "batch.kubernetes.io/job-name",
        "batch.kubernetes.io/job-completion-index",
        # a flow parser's name for Cilium's service-account identity, not a pod label
        "serviceaccount",
    }
)
# Added by admission webhooks (sidecar injection), absent as soon as injection is turned off.
UNSTABLE_PREFIXES = (
    "io.kubernetes.",
    "io.cilium.",
    "security.istio.io/",
    "service.istio.io/",
    "sidecar.istio.io/",
    "topology.istio.io/",
    "sidecar.opentelemetry.io/",
)

OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


def normalize_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Return labels with Hubble's `k8s:` source prefix removed and other sources dropped.

    A Kubernetes label key cannot contain `:`, so any other prefix (`reserved:`, `container:`)
    marks a label that no NetworkPolicy selector can refer to.
    """
    out: dict[str, str] = {}
    for key, value in labels.items():
        if key.startswith(K8S_SOURCE):
            out[key[len(K8S_SOURCE) :]] = value
        elif ":" not in key:
            out[key] = value
    return out


def pod_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Return the labels a pod object carries, as selectors match them."""
    return {
        key: value for key, value in normalize_labels(labels).items() if not key.startswith(DERIVED_PREFIXES)
    }


def stable_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Return the pod labels that identify a workload across replicas and rollouts, sorted."""
    return {
        key: value
        for key, value in sorted(pod_labels(labels).items())
        if key not in UNSTABLE_KEYS and not key.startswith(UNSTABLE_PREFIXES)
    }


def namespace_labels(
    nodes: Iterable[NodeRecord], extra: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, dict[str, str]]:
    """Return each known namespace's labels.

    Every namespace has `kubernetes.io/metadata.name`; Hubble also copies namespace labels onto
    pods as `io.cilium.k8s.namespace.labels.<key>`; `extra` (namespace -> labels) comes last.
    """
    result: dict[str, dict[str, str]] = {}
    for node in nodes:
        if node.kind != "workload" or node.namespace is None:
            continue
        labels = result.setdefault(node.namespace, {NAMESPACE_NAME_LABEL: node.namespace})
        for key, value in normalize_labels(node.labels).items():
            if key.startswith(CILIUM_NAMESPACE_LABEL):
                labels[key[len(CILIUM_NAMESPACE_LABEL) :]] = value
    for namespace, added in (extra or {}).items():
        result.setdefault(namespace, {NAMESPACE_NAME_LABEL: namespace}).update(added)
    return result


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Tell whether a LabelSelector matches labels; `{}` and `None` match everything.

    Callers decide what an absent selector means in their context before calling this.
    """
    if not selector:
        return True
    match_labels = selector.get("matchLabels") or {}
    if any(labels.get(key) != str(value) for key, value in match_labels.items()):
        return False
    return all(_expression_matches(expr, labels) for expr in selector.get("matchExpressions") or [])


def _expression_matches(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    operator = expr.get("operator")
    key = expr.get("key")
    if operator not in OPERATORS or not isinstance(key, str):
        raise PolicyError(f"bad matchExpression {dict(expr)!r}", path="matchExpressions")
    values = {str(value) for value in expr.get("values") or []}
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    return key not in labels
