"""Label normalisation, selector matching, protocols and port classes."""

from __future__ import annotations

from policy_builders import edge

from jobs.engines.policy.labels import namespace_labels, normalize_labels, pod_labels, selector_matches, stable_labels
from jobs.engines.policy.ports import normalize_protocol, port_classes
from jobs.engines.policy.union import merge_snapshots
from jobs.engines.snapshot.types import NodeRecord

HUBBLE = {
    "k8s:app": "reviews",
    "k8s:version": "v1",
    "k8s:io.cilium.k8s.policy.serviceaccount": "bookinfo-reviews",
    "k8s:io.kubernetes.pod.namespace": "bookinfo",
    "k8s:security.istio.io/tlsMode": "istio",
    "k8s:sidecar.opentelemetry.io/injected": "bookinfo.otelcol-bookinfo",
    "reserved:host": "",
}


def test_hubble_labels_lose_source_prefix_and_derived_keys() -> None:
    assert "host" not in normalize_labels(HUBBLE) and "reserved:host" not in normalize_labels(HUBBLE)
    assert pod_labels(HUBBLE) == {
        "app": "reviews",
        "version": "v1",
        "security.istio.io/tlsMode": "istio",
        "sidecar.opentelemetry.io/injected": "bookinfo.otelcol-bookinfo",
    }
    assert stable_labels(HUBBLE) == {"app": "reviews", "version": "v1"}


def test_controller_labels_are_not_stable() -> None:
    labels = {
        "app": "db",
        "pod-template-hash": "5d8f",
        "controller-revision-hash": "db-7c9",
        "statefulset.kubernetes.io/pod-name": "db-0",
        "pod-template-generation": "3",
    }
    assert stable_labels(labels) == {"app": "db"}


def test_namespace_labels_merge_derived_hubble_and_extra() -> None:
    node = NodeRecord("shop/a", "a", "workload", "shop", {"k8s:io.cilium.k8s.namespace.labels.team": "pay"})
    assert namespace_labels([node], {"shop": {"env": "prod"}, "empty": {}}) == {
        "shop": {"kubernetes.io/metadata.name": "shop", "team": "pay", "env": "prod"},
        "empty": {"kubernetes.io/metadata.name": "empty"},
    }


def test_empty_and_combined_selectors() -> None:
    labels = {"app": "web", "tier": "front"}
    assert selector_matches({}, labels)
    assert selector_matches({"matchLabels": None}, labels)
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}],
    }
    assert selector_matches(selector, labels)
    assert not selector_matches(selector, {"app": "web", "tier": "back"})


def test_protocol_spellings() -> None:
    assert [normalize_protocol(p) for p in ("tcp", "17", "sctp", "ICMPv4", "58")] == [
        "TCP",
        "UDP",
        "SCTP",
        "ICMP",
        "ICMPV6",
    ]


def test_port_classes_isolate_observed_ports_and_follow_ranges() -> None:
    assert port_classes([(8000, 8099)], [53, 8080]) == [
        (1, 52),
        (53, 53),
        (54, 7999),
        (8000, 8079),
        (8080, 8080),
        (8081, 8099),
        (8100, 65535),
    ]
    assert port_classes([], []) == [(1, 65535)]
    assert port_classes([], [1, 65535]) == [(1, 1), (2, 65534), (65535, 65535)]


def test_merge_sums_edges_and_counts_snapshots() -> None:
    first = ([], [edge("a", "b", 80, "tcp", flows=2), edge("a", "b", 0, "UDP")])
    second = ([], [edge("a", "b", 80, flows=3, minute=9)])
    union = merge_snapshots([first, second])
    tcp = next(e for e in union.edges if e.protocol == "TCP")
    assert (tcp.flows, tcp.bytes, union.seen_in[tcp.key]) == (5, 7500, 2)
    assert next(e for e in union.edges if e.protocol == "UDP").dst_port is None, "port 0 means unknown"
    assert set(union.nodes) == {"a", "b"}


def test_merge_keeps_common_labels_and_ignores_records_without_labels() -> None:
    def node(labels: dict[str, str]) -> NodeRecord:
        return NodeRecord("shop/cart", "cart", "workload", "shop", labels)

    union = merge_snapshots(
        [
            ([node({"app": "cart", "version": "v1"})], []),
            ([node({})], []),
            ([node({"app": "cart", "version": "v2"})], []),
        ]
    )
    assert union.nodes["shop/cart"].labels == {"app": "cart"}
