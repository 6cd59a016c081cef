"""Plain builders of test data for the policy engine tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from jobs.engines.policy.evaluate import PolicySet
from jobs.engines.snapshot.types import EdgeRecord, NodeKind, NodeRecord

RECIPES = Path(__file__).resolve().parents[4] / "shared" / "data" / "netpol-recipes"
T0 = datetime(2021, 11, 10, 10, 40, 56, tzinfo=UTC)


def recipe(prefix: str) -> dict[str, Any]:
    """Load the recipe whose file name starts with `prefix` (e.g. "07-")."""
    (path,) = sorted(RECIPES.glob(f"{prefix}*.yaml"))
    with path.open() as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def pod(namespace: str, name: str, **labels: str) -> NodeRecord:
    """A workload node `namespace/name` with the given labels."""
    return NodeRecord(
        key=f"{namespace}/{name}", name=name, kind="workload", namespace=namespace, labels=labels
    )


def ip(address: str, kind: NodeKind = "external") -> NodeRecord:
    """An IP or external node keyed by its address."""
    return NodeRecord(key=address, name=address, kind=kind, ips=(address,))


def edge(
    src: str,
    dst: str,
    port: int | None,
    protocol: str = "TCP",
    *,
    flows: int = 4,
    rejected: int = 0,
    minute: int = 0,
) -> EdgeRecord:
    """An edge with `flows` flows of 1,500 bytes and 10 packets each, seen at T0 + `minute`."""
    seen = T0 + timedelta(minutes=minute)
    return EdgeRecord(
        src=src,
        dst=dst,
        dst_port=port,
        protocol=protocol,
        bytes=1500 * flows,
        packets=10 * flows,
        flows=flows,
        rejected=rejected,
        first_seen=seen,
        last_seen=seen + timedelta(seconds=30),
    )


def bookinfo_nodes(prefixed: bool = False) -> list[NodeRecord]:
    """Bookinfo pods as a Hubble-fed parser may report them, kube-dns, and one outside client.

    With `prefixed` the labels keep Hubble's `k8s:` source prefix and Cilium's derived labels.
    """
    nodes = []
    for app in ("productpage", "details", "reviews", "ratings"):
        labels = {
            "app": app,
            "version": "v1",
            "pod-template-hash": "545db77b95",
            "serviceaccount": f"bookinfo-{app}",
        }
        if prefixed:
            labels = {f"k8s:{key}": value for key, value in labels.items() if key != "serviceaccount"}
            labels["k8s:io.cilium.k8s.policy.serviceaccount"] = f"bookinfo-{app}"
            labels["k8s:io.kubernetes.pod.namespace"] = "bookinfo"
            labels["k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name"] = "bookinfo"
        nodes.append(NodeRecord(f"bookinfo/{app}-v1", f"{app}-v1", "workload", "bookinfo", labels))
    dns_labels = {"k8s-app": "kube-dns", "pod-template-hash": "558bd4d5db"}
    nodes.append(NodeRecord("kube-system/coredns", "coredns", "workload", "kube-system", dns_labels))
    nodes.append(ip("203.0.113.7"))
    return nodes


def bookinfo_edges() -> list[EdgeRecord]:
    """productpage -> details:9080, productpage -> reviews:9080, reviews -> ratings:9080, the
    outside client -> productpage:9080, and DNS (53/UDP) from every bookinfo pod to kube-dns."""
    edges = [
        edge("bookinfo/productpage-v1", "bookinfo/details-v1", 9080, flows=12),
        edge("bookinfo/productpage-v1", "bookinfo/reviews-v1", 9080, flows=20),
        edge("bookinfo/reviews-v1", "bookinfo/ratings-v1", 9080, flows=7),
        edge("203.0.113.7", "bookinfo/productpage-v1", 9080, flows=3),
    ]
    for app in ("productpage", "details", "reviews", "ratings"):
        edges.append(edge(f"bookinfo/{app}-v1", "kube-system/coredns", 53, "UDP", flows=2))
    return edges


# The hand-made estate both evaluator test modules judge policies against.
WEB = pod("default", "web", app="web")
API = pod("default", "api", app="bookstore", role="api")
BOOKSTORE_WEB = pod("default", "bookstore-web", app="bookstore", role="web")
OTHER = pod("default", "other", app="other")
FOREIGN_BOOKSTORE = pod("shop", "bookstore", app="bookstore")
OPS_MONITOR = pod("ops", "prometheus", type="monitoring")
OPS_OTHER = pod("ops", "shell", type="debug")
DEV_MONITOR = pod("dev", "prometheus", type="monitoring")
KUBE_DNS = pod("kube-system", "coredns", **{"k8s-app": "kube-dns"})
FOO = pod("default", "foo", app="foo")
OUTSIDE = ip("198.51.100.20")
NODES = [
    WEB,
    API,
    BOOKSTORE_WEB,
    OTHER,
    FOREIGN_BOOKSTORE,
    OPS_MONITOR,
    OPS_OTHER,
    DEV_MONITOR,
    KUBE_DNS,
    FOO,
    OUTSIDE,
]


def policy_set(*policies: dict, **namespace_labels: dict[str, str]) -> PolicySet:
    """The policies compiled over NODES, with optional namespace labels."""
    return PolicySet(policies, NODES, namespace_labels=namespace_labels)
