"""The evaluator on hand-written edge cases: policyTypes, expressions, ipBlock, ports, errors."""

from __future__ import annotations

import pytest
from policy_builders import (
    API,
    NODES,
    OTHER,
    OUTSIDE,
    WEB,
    ip,
    pod,
    policy_set,
    recipe,
)

from jobs.engines.policy.errors import PolicyError, UnsupportedPolicyError
from jobs.engines.policy.evaluate import PolicySet
from jobs.engines.snapshot.types import NodeRecord


def test_policy_types_default_from_the_rules_present() -> None:
    with_egress = {
        "metadata": {"name": "p"},
        "spec": {
            "podSelector": {},
            "ingress": [{}],
            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "web"}}}]}],
        },
    }
    empty_egress = {"metadata": {"name": "q"}, "spec": {"podSelector": {}, "ingress": [{}], "egress": []}}
    assert not PolicySet([with_egress], NODES).allows(OTHER, API, 80)
    assert PolicySet([with_egress], NODES).allows(OTHER, WEB, 80)
    assert PolicySet([empty_egress], NODES).allows(OTHER, API, 80), "egress: [] alone adds no Egress type"


def test_explicit_policy_types_ignore_other_sections() -> None:
    egress_only = {
        "metadata": {"name": "e"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "ingress": []},
    }
    pset = PolicySet([egress_only], NODES)
    assert pset.allows(OUTSIDE, WEB, 80), "ingress section without the Ingress type isolates nothing"
    assert not pset.allows(WEB, OUTSIDE, 80)


@pytest.mark.parametrize(
    ("expressions", "admitted", "refused"),
    [
        ([{"key": "app", "operator": "In", "values": ["web", "bookstore"]}], API, OTHER),
        ([{"key": "app", "operator": "NotIn", "values": ["bookstore"]}], OTHER, API),
        ([{"key": "role", "operator": "Exists"}], API, OTHER),
        ([{"key": "role", "operator": "DoesNotExist"}], OTHER, API),
    ],
)
def test_match_expressions(expressions: list, admitted: NodeRecord, refused: NodeRecord) -> None:
    policy = {
        "metadata": {"name": "x"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"from": [{"podSelector": {"matchExpressions": expressions}}]}],
        },
    }
    pset = PolicySet([policy], NODES)
    assert pset.allows(admitted, WEB, 80)
    assert not pset.allows(refused, WEB, 80)


def test_ip_block_with_except_and_ipv6() -> None:
    policy = {
        "metadata": {"name": "x"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [
                {"from": [{"ipBlock": {"cidr": "198.51.100.0/24", "except": ["198.51.100.16/28"]}}]},
                {"from": [{"ipBlock": {"cidr": "2001:db8::/64"}}]},
            ],
        },
    }
    pset = PolicySet([policy], NODES)
    assert pset.allows(ip("198.51.100.7"), WEB, 80)
    assert not pset.allows(OUTSIDE, WEB, 80), ".20 is inside the except"
    assert pset.allows(ip("2001:db8::5"), WEB, 80)
    assert not pset.allows(ip("2001:db9::5"), WEB, 80)
    assert not pset.allows(OTHER, WEB, 80), "an ipBlock does not match a pod without that address"


def test_end_port_ranges() -> None:
    policy = {
        "metadata": {"name": "x"},
        "spec": {
            "podSelector": {},
            "ingress": [{"ports": [{"port": 32000, "endPort": 32768, "protocol": "UDP"}]}],
        },
    }
    pset = PolicySet([policy], NODES)
    assert pset.allows(OUTSIDE, WEB, 32000, "UDP")
    assert pset.allows(OUTSIDE, WEB, 32768, "UDP")
    assert not pset.allows(OUTSIDE, WEB, 32769, "UDP")
    assert not pset.allows(OUTSIDE, WEB, 32100, "TCP")


def test_portless_rule_admits_icmp_but_port_rules_do_not() -> None:
    portless = {
        "metadata": {"name": "a"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{}]},
    }
    ported = {
        "metadata": {"name": "b"},
        "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "ingress": [{"ports": [{"port": 80}]}]},
    }
    api = pod("default", "api2", app="api")
    pset = PolicySet([portless, ported], [*NODES, api])
    assert pset.allows(OUTSIDE, WEB, None, "ICMP")
    assert not pset.allows(OUTSIDE, api, None, "ICMP")


def test_decision_names_the_isolating_policies() -> None:
    pset = policy_set(recipe("01-"), recipe("12-"))
    decision = pset.decide(OTHER, WEB, 80)
    assert not decision.allowed
    assert not decision.ingress_ok and not decision.egress_ok
    assert decision.ingress_policies == ("default/web-deny-all",)
    assert decision.egress_policies == ("default/default-deny-all-egress",)


def test_named_ports_are_reported_unsupported() -> None:
    policy = {
        "metadata": {"name": "named"},
        "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}]}]},
    }
    with pytest.raises(UnsupportedPolicyError, match="named port 'http'"):
        PolicySet([policy], NODES)


@pytest.mark.parametrize(
    "peer",
    [{}, {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}, {"ipBlock": {"cidr": "not-a-cidr"}}],
)
def test_malformed_peers_raise_policy_error(peer: dict) -> None:
    policy = {"metadata": {"name": "bad"}, "spec": {"podSelector": {}, "ingress": [{"from": [peer]}]}}
    with pytest.raises(PolicyError, match="default/bad"):
        PolicySet([policy], NODES)


def test_unknown_operator_raises() -> None:
    policy = {
        "metadata": {"name": "op"},
        "spec": {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Maybe"}]}},
    }
    with pytest.raises(PolicyError, match="matchExpression"):
        PolicySet([policy], NODES).allows(OTHER, WEB, 80)


def test_hubble_prefixed_labels_and_namespace_labels_are_understood() -> None:
    labels = {
        "k8s:app": "web",
        "k8s:io.cilium.k8s.namespace.labels.istio-injection": "enabled",
        "k8s:io.kubernetes.pod.namespace": "bookinfo",
    }
    hubble_web = NodeRecord("bookinfo/web", "web", "workload", "bookinfo", labels)
    policy = {
        "metadata": {"name": "x", "namespace": "bookinfo"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"istio-injection": "enabled"}}}]}],
        },
    }
    client = pod("bookinfo", "client", app="client")
    pset = PolicySet([policy], [hubble_web, client])
    assert pset.allows(client, hubble_web, 80), "namespace labels come from io.cilium.k8s.namespace.labels.*"
    assert not pset.allows(OUTSIDE, hubble_web, 80)
