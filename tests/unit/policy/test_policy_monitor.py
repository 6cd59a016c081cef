"""Monitor mode's engine: which flows of a window the policies of monitored namespaces would deny, and why."""

from __future__ import annotations

from typing import Any

from jobs.engines.policy.monitor import evaluate_window, severity_of, violation_risk
from tests.unit.policy.policy_builders import edge, ip, pod


def _payments_policy(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "podSelector": {"matchLabels": {"app": "payments"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": 8443}]}],
    }
    spec.update(extra)
    return {"kind": "NetworkPolicy", "metadata": {"name": "sg-payments", "namespace": "shop"}, "spec": spec}


NODES = [
    pod("shop", "payments", app="payments"),
    pod("shop", "api", app="api"),
    pod("shop", "checkout", app="checkout"),
    pod("web", "front", app="front"),
    ip("203.0.113.9"),
]


def test_a_flow_no_ingress_rule_admits_is_a_violation_naming_policy_and_missing_rule() -> None:
    edges = [edge("shop/api", "shop/payments", 8443), edge("shop/checkout", "shop/payments", 8443, flows=9)]
    result = evaluate_window([_payments_policy()], NODES, edges, monitored={"shop"})
    assert result.evaluated == 2 and result.allowed == 1
    (violation,) = result.violations
    assert (violation.src, violation.dst, violation.dst_port, violation.direction) == (
        "shop/checkout",
        "shop/payments",
        8443,
        "ingress",
    )
    assert violation.policy == "shop/sg-payments" and violation.namespace == "shop"
    assert violation.explanation == (
        "checkout → payments:8443 would be blocked by sg-payments: no ingress rule admits app=checkout on TCP/8443"
    )


def test_a_peer_admitted_on_another_port_says_so() -> None:
    result = evaluate_window([_payments_policy()], NODES, [edge("shop/api", "shop/payments", 9090)], monitored={"shop"})
    (violation,) = result.violations
    assert violation.missing.endswith("on TCP/9090 (rules admit it on other ports)")


def test_namespaces_not_in_monitor_are_not_evaluated() -> None:
    edges = [edge("shop/checkout", "shop/payments", 8443)]
    assert evaluate_window([_payments_policy()], NODES, edges, monitored={"web"}).violations == []
    assert evaluate_window([_payments_policy()], NODES, edges, monitored=set()).evaluated == 0


def test_unselected_pods_and_non_pods_are_never_isolated() -> None:
    edges = [edge("203.0.113.9", "shop/api", 443), edge("shop/api", "203.0.113.9", 443)]
    assert evaluate_window([_payments_policy()], NODES, edges, monitored={"shop"}).violations == []


def test_an_egress_denial_names_the_egress_side() -> None:
    policy = _payments_policy(policyTypes=["Egress"], egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}])
    result = evaluate_window([policy], NODES, [edge("shop/payments", "203.0.113.9", 443)], monitored={"shop"})
    (violation,) = result.violations
    assert violation.direction == "egress"
    assert violation.missing == "no egress rule allows traffic to 203.0.113.9 on TCP/443"


def test_deny_all_policy_denies_what_no_other_policy_admits() -> None:
    deny = {"metadata": {"name": "deny-all", "namespace": "shop"}, "spec": {"podSelector": {}, "ingress": []}}
    edges = [
        edge("web/front", "shop/api", 80),
        edge("shop/checkout", "shop/payments", 8443),
        edge("shop/api", "shop/payments", 8443),
    ]  # policies add up: sg-payments admits this one
    result = evaluate_window([deny, _payments_policy()], NODES, edges, monitored={"shop"})
    by_dst = {v.dst: v for v in result.violations}
    assert len(result.violations) == 2 and result.allowed == 1
    assert set(by_dst) == {"shop/api", "shop/payments"}
    assert by_dst["shop/api"].policies == ("shop/deny-all",)
    assert by_dst["shop/payments"].policies == ("shop/deny-all", "shop/sg-payments")


def test_risk_grows_with_traffic_and_criticality_and_bands_match() -> None:
    result = evaluate_window(
        [_payments_policy()],
        NODES,
        [edge("shop/checkout", "shop/payments", 8443, flows=1), edge("shop/api", "shop/payments", 1, flows=1000)],
        monitored={"shop"},
    )
    small, big = sorted(result.violations, key=lambda v: v.flows)
    assert violation_risk(small) < violation_risk(big) < violation_risk(big, criticality=1.0) <= 100
    assert result.violations[0] is big  # highest traffic first
    assert severity_of(90) == "critical" and severity_of(45) == "medium" and severity_of(5) == "info"


def test_amending_admits_exactly_the_violating_flow() -> None:
    from jobs.engines.policy.monitor import amend_manifest

    nodes = {n.key: n for n in NODES}
    flow = edge("shop/checkout", "shop/payments", 8443)
    amended = amend_manifest(
        _payments_policy(), direction="ingress", peer=nodes["shop/checkout"], port=8443, protocol="TCP"
    )
    assert evaluate_window([amended], NODES, [flow], monitored={"shop"}).violations == []
    other_port = edge("shop/checkout", "shop/payments", 9000)
    assert len(evaluate_window([amended], NODES, [other_port], monitored={"shop"}).violations) == 1
    egress = _payments_policy(policyTypes=["Egress"], egress=[])
    out = amend_manifest(egress, direction="egress", peer=nodes["203.0.113.9"], port=443, protocol="tcp")
    assert out["spec"]["egress"] == [
        {"to": [{"ipBlock": {"cidr": "203.0.113.9/32"}}], "ports": [{"port": 443, "protocol": "TCP"}]}
    ]
    assert _payments_policy()["spec"]["ingress"][0]["ports"] == [{"port": 8443}]  # the original is left alone


def test_an_unreadable_policy_is_left_out_with_the_reason() -> None:
    from jobs.tasks.monitor import usable_manifests
    from models.policy import Policy

    good = Policy(tenant_id=1, name="sg-payments", namespace="shop", yaml="kind: NetworkPolicy\nspec: {}\n", version=2)
    named = Policy(
        tenant_id=1,
        name="sg-web",
        namespace="shop",
        version=1,
        yaml="spec:\n  ingress:\n  - ports:\n    - port: http\n",
    )
    manifests, bad = usable_manifests([good, named])
    assert [m["metadata"] for m in manifests] == [{"namespace": "shop", "name": "sg-payments"}]
    assert bad == ["shop/sg-web v1: shop/sg-web at ports: named port 'http' is not supported"]
