"""Pure helpers: Hubble endpoint identity, address classification, protocol names, times."""

from __future__ import annotations

import polars as pl
import pytest

from jobs.engines.flows.addresses import address_info, is_external
from jobs.engines.flows.columns import protocol_name
from jobs.engines.flows.hubble_identity import Identity, endpoint_identity, keep_labels, workload_from_pod
from jobs.engines.flows.timestamps import parse_timestamps


@pytest.mark.parametrize(
    ("pod", "workload"),
    [
        ("reviews-v1-545db77b95-2ps7q", "reviews-v1"),
        ("productpage-v1-6b746f74dc-9stvs", "productpage-v1"),
        ("ratings-v1-b6994bb9-jgqxb", "ratings-v1"),
        ("node-local-dns-88zrp", "node-local-dns"),
        ("mysql-0", "mysql"),
        ("details-v1", "details-v1"),
        ("standalone", "standalone"),
    ],
)
def test_workload_from_pod(pod: str, workload: str) -> None:
    assert workload_from_pod(pod) == workload


def test_keep_labels_strips_k8s_prefix_and_meta_labels() -> None:
    labels = [
        "k8s:app=reviews", "k8s:version=v1", "k8s:io.kubernetes.pod.namespace=bookinfo",
        "k8s:io.cilium.k8s.policy.serviceaccount=bookinfo-reviews",
        "k8s:io.cilium.k8s.namespace.labels.istio-injection=enabled", "reserved:host",
        "container:foo=bar",
    ]
    assert keep_labels(labels) == {"app": "reviews", "version": "v1"}


def test_endpoint_identity_rules() -> None:
    labels = ["k8s:app=reviews", "k8s:version=v1", "k8s:io.kubernetes.pod.namespace=bookinfo"]
    expected = Identity("reviews-v1", "bookinfo", '{"app":"reviews","version":"v1"}')
    assert endpoint_identity("bookinfo", "reviews-v1-545db77b95-s6jb8", None, labels) == expected
    # The same identity seen without its pod (issue 19) is the same workload.
    assert endpoint_identity(None, None, None, labels) == expected
    assert endpoint_identity("kube-system", "coredns-558bd4d5db-w2m67", None, ["k8s:k8s-app=kube-dns"]).name == "kube-dns"
    assert endpoint_identity(None, None, None, ["reserved:world"]) == Identity("world", None, None)
    assert endpoint_identity(None, None, None, ["reserved:remote-node"]).name == "remote-node"
    assert endpoint_identity("shop", "cart-abc12", "cart", None).name == "cart"
    # Namespace from the pod-namespace label when the field is missing.
    assert endpoint_identity(None, "web-0", None, ["k8s:io.kubernetes.pod.namespace=prod"]).namespace == "prod"
    assert endpoint_identity(None, None, None, None) == Identity(None, None, None)


@pytest.mark.parametrize(
    ("text", "canonical", "external"),
    [
        ("64.225.56.201", "64.225.56.201", True),
        ("10.55.100.100", "10.55.100.100", False),
        ("192.168.88.2", "192.168.88.2", False),
        ("100.64.1.1", "100.64.1.1", False),
        ("224.0.0.251", "224.0.0.251", False),
        ("203.0.113.12", "203.0.113.12", True),
        ("172.20.0.5", "172.20.0.5", False),
        ("fd00::1", "fd00::1", False),
        ("fe80::8000:f227:bec8:61af", "fe80::8000:f227:bec8:61af", False),
        ("ff02::2", "ff02::2", False),
        ("2001:4860:0:2001::68", "2001:4860:0:2001::68", True),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", True),
        ("::ffff:8.8.8.8", "::ffff:808:808", True),
    ],
)
def test_address_classification(text: str, canonical: str, external: bool) -> None:
    info = address_info(text)
    assert info is not None
    assert (info.canonical, info.external, is_external(text)) == (canonical, external, external)


@pytest.mark.parametrize("text", ["", "world", "10.0.0.256", "1.2.3", " 10.0.0.1", "01.2.3.4"])
def test_invalid_addresses(text: str) -> None:
    assert address_info(text) is None
    assert not is_external(text)


def test_protocol_names() -> None:
    names = ["6", "17", "1", "58", "132", "250", "TCP", " ICMPv6", "006"]
    assert [protocol_name(name) for name in names] == [
        "tcp", "udp", "icmp", "icmp6", "sctp", "250", "tcp", "icmp6", "tcp",
    ]



@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("2024-04-19T00:00:00Z", 1713484800000000),
        ("2024-04-19 02:00:00+02:00", 1713484800000000),
        ("2024-04-18T19:00:00-0500", 1713484800000000),
        ("2024-04-19T03:00:00+03", 1713484800000000),
        ("2024-04-19T00:00:00.000000+0000", 1713484800000000),
        ("2021-06-16T16:52:13.136834446Z", 1623862333136834),
        ("2024-04-19T00:00:00.5", 1713484800500000),
        (" 2024-04-19T00:00:00Z ", 1713484800000000),
        ("1713484795.943239", 1713484795943239),
        ("164000066", 164000066000000),
        ("bad", None),
        ("2021-02-30T00:00:00Z", None),
        ("2021-06-16T16:52:13.Z", None),
        ("2021-06-16T16:52:13+02:0a", None),
        ("1969-12-31T23:59:59Z", None),
        ("2100-01-01T00:00:00Z", None),
        ("1e20", None),
    ],
)
def test_timestamps_alone_and_among_clean_values(text: str, micros: int | None) -> None:
    clean = "2024-04-19T00:00:00Z"
    for values in ([text], [clean, text], [text] * 3):
        parsed = parse_timestamps(pl.Series(values)).dt.epoch("us").to_list()
        assert parsed[values.index(text)] == micros, values
