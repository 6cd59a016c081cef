"""Who a Hubble endpoint is: workload name, namespace and the labels worth keeping.

- Name: one Cilium identity is one workload, whichever record names it. An identity is its set of
  labels, and Hubble sends those labels with every record of it, while the pod name comes only where
  the observing node knows the pod (issue 19: identity 3418 is `productpage-v1-…` in 864 records and
  nameless via 10.244.0.148 in 47). So the name comes from the labels first: the first of
  `app.kubernetes.io/name`, `app`, `k8s-app`, followed by `-<version>` when a `version` label is set
  and the name does not already end so (`app=productpage,version=v1` → `productpage-v1`; versions of
  one app are distinct identities and stay distinct workloads). Without such a label:
  `workloads[0].name` when Hubble knows the owner, else the pod name without its ReplicaSet hash
  and pod suffix (`reviews-v1-545db77b95-2ps7q` → `reviews-v1`; `node-local-dns-88zrp` →
  `node-local-dns`; a StatefulSet pod `db-0` → `db`), else the reserved identity (`reserved:world`
  → `world`, `host`, `remote-node`, `health`, …) with no namespace.
- Labels: only `k8s:` labels, prefix stripped; Cilium/Kubernetes meta labels
  (`io.cilium.*`, `io.kubernetes.pod.*`) are dropped. Stored as JSON with sorted keys, or None.
- Cluster (issue 19 A4): the `k8s:io.cilium.k8s.policy.cluster` label, which Cilium sets on every
  endpoint of a named pod; None when absent (reserved identities, older agents), read downstream as
  `default`. An identity is one workload per cluster: `kube-system/coredns` of two clusters are two
  workloads. A value that is not a valid label value (so could not be a cluster name, and could
  break a node key) is kept as None.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from jobs.engines.flows.schema import CLUSTER_PATTERN

# Kubernetes generates hashes and suffixes from this alphabet (no vowels, no 0/1/3).
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_DEPLOYMENT_POD = re.compile(rf"^(.+)-{_SAFE}{{6,10}}-{_SAFE}{{5}}$")
_SUFFIXED_POD = re.compile(rf"^(.+)-(?:{_SAFE}{{5}}|\d+)$")
_CLUSTER_NAME = re.compile(CLUSTER_PATTERN)
CLUSTER_LABEL: Final = "k8s:io.cilium.k8s.policy.cluster="
META_PREFIXES: Final = ("io.cilium.", "io.cilium/", "io.kubernetes.pod.")
K8S_SOURCE: Final = "k8s:"
RESERVED_SOURCE: Final = "reserved:"
# The app-name labels that name a namespaced endpoint, in order; VERSION_LABEL tells its versions apart.
NAME_LABELS: Final = ("app.kubernetes.io/name", "app", "k8s-app")
VERSION_LABEL: Final = "version"


@dataclass(frozen=True, slots=True)
class Identity:
    """Canonical name/namespace/labels of one endpoint."""

    name: str | None
    namespace: str | None
    labels: str | None
    cluster: str | None = None


def workload_from_pod(pod_name: str) -> str:
    """Strip the generated suffix of a pod name to get its workload's name."""
    for pattern in (_DEPLOYMENT_POD, _SUFFIXED_POD):
        match = pattern.match(pod_name)
        if match:
            return match.group(1)
    return pod_name


def keep_labels(labels: Sequence[str] | None) -> dict[str, str]:
    """The `k8s:` labels of an endpoint as a dict, without meta labels."""
    kept: dict[str, str] = {}
    for label in labels or ():
        if not label.startswith(K8S_SOURCE):
            continue
        key, _, value = label[len(K8S_SOURCE) :].partition("=")
        if key and not key.startswith(META_PREFIXES):
            kept[key] = value
    return kept


def labels_json(labels: dict[str, str]) -> str | None:
    """Labels as a compact JSON object with sorted keys; None when there are none."""
    return json.dumps(labels, sort_keys=True, separators=(",", ":")) if labels else None


def endpoint_identity(
    namespace: str | None, pod_name: str | None, workload: str | None, labels: Sequence[str] | None
) -> Identity:
    """The identity of one Hubble endpoint (see the module docstring for the rules)."""
    if not namespace:
        namespace = _label_value(labels, "k8s:io.kubernetes.pod.namespace=")
    kept = keep_labels(labels)
    name = label_name(kept) if namespace else None
    if name is None and workload:
        name = workload
    elif name is None and pod_name:
        name = workload_from_pod(pod_name)
    elif name is None:
        name = _reserved_name(labels)
        # A reserved identity belongs to no namespace, whatever the labels say.
        namespace = None if name is not None else namespace
    cluster = _label_value(labels, CLUSTER_LABEL)
    if cluster is not None and not _CLUSTER_NAME.match(cluster):
        cluster = None
    return Identity(name=name, namespace=namespace or None, labels=labels_json(kept), cluster=cluster)


def label_name(kept: dict[str, str]) -> str | None:
    """The workload name an identity's labels give (module docstring), or None without an app-name label."""
    name = next((kept[key] for key in NAME_LABELS if kept.get(key)), None)
    version = kept.get(VERSION_LABEL)
    if name is not None and version and not name.endswith(f"-{version}"):
        name = f"{name}-{version}"
    return name


def _reserved_name(labels: Sequence[str] | None) -> str | None:
    reserved = sorted(x[len(RESERVED_SOURCE) :] for x in labels or () if x.startswith(RESERVED_SOURCE))
    return reserved[0] if reserved else None


def _label_value(labels: Sequence[str] | None, prefix: str) -> str | None:
    for label in labels or ():
        if label.startswith(prefix):
            return label[len(prefix) :]
    return None
