"""verify(): generated policies are exact; hand-edited broader or narrower ones are caught."""

from __future__ import annotations

import copy
import time

from policy_builders import bookinfo_edges, bookinfo_nodes, edge, ip, pod, recipe

from jobs.engines.policy.evaluate import verify
from jobs.engines.policy.generate import generate_policies
from jobs.engines.policy.universe import Connection


def generated() -> tuple[list[dict], list, list]:
    result = generate_policies([(bookinfo_nodes(), bookinfo_edges())])
    return result.manifests(), result.nodes, result.edges


def named(manifests: list[dict], name: str) -> dict:
    return next(m for m in manifests if m["metadata"]["name"] == name)


def test_broader_hand_edit_is_caught_as_allowed_not_observed() -> None:
    manifests, nodes, edges = generated()
    ratings = named(manifests, "sg-ratings-v1")
    # widen: any bookinfo pod may call ratings
    del ratings["spec"]["ingress"][0]["from"][0]["podSelector"]
    productpage = named(manifests, "sg-productpage-v1")
    productpage["spec"]["egress"].append(
        copy.deepcopy(named(manifests, "sg-reviews-v1")["spec"]["egress"][1])
    )
    result = verify(manifests, nodes, edges)
    assert not result.exact
    assert (
        Connection("bookinfo/productpage-v1", "bookinfo/ratings-v1", "TCP", 9080)
        in result.allowed_not_observed
    )
    assert result.observed_not_allowed == []
    assert result.allowed_not_observed_count == len(result.allowed_not_observed)


def test_widening_one_side_only_stays_exact_because_the_other_side_still_refuses() -> None:
    manifests, nodes, edges = generated()
    named(manifests, "sg-details-v1")["spec"]["ingress"][0]["ports"] = [{"port": 9080, "endPort": 9090}]
    assert verify(manifests, nodes, edges).exact, "productpage's egress still allows only 9080"


def test_port_range_widening_is_reported_as_a_range() -> None:
    manifests, nodes, edges = generated()
    named(manifests, "sg-productpage-v1")["spec"]["ingress"][0]["ports"] = [{"port": 9080, "endPort": 9090}]
    result = verify(manifests, nodes, edges)
    assert result.allowed_not_observed == [
        Connection("203.0.113.7", "bookinfo/productpage-v1", "TCP", 9081, 9090)
    ]


def test_portless_rule_is_caught_on_unobserved_ports() -> None:
    manifests, nodes, edges = generated()
    del named(manifests, "sg-productpage-v1")["spec"]["ingress"][0]["ports"]
    result = verify(manifests, nodes, edges)
    wider = {(c.src, c.protocol, c.port, c.end_port) for c in result.allowed_not_observed}
    assert ("203.0.113.7", "UDP", 1, 52) in wider
    assert ("203.0.113.7", "TCP", 9081, 65535) in wider
    assert ("203.0.113.7", "SCTP", 1, 65535) in wider


def test_narrower_hand_edit_is_caught_as_observed_not_allowed() -> None:
    manifests, nodes, edges = generated()
    reviews = named(manifests, "sg-reviews-v1")
    reviews["spec"]["egress"] = reviews["spec"]["egress"][:1]
    result = verify(manifests, nodes, edges)
    assert not result.exact
    assert result.observed_not_allowed == [
        Connection("bookinfo/reviews-v1", "bookinfo/ratings-v1", "TCP", 9080)
    ]
    assert result.allowed_not_observed == []


def test_missing_policy_leaves_the_workload_open() -> None:
    manifests, nodes, edges = generated()
    manifests = [m for m in manifests if m["metadata"]["name"] != "sg-details-v1"]
    result = verify(manifests, nodes, edges)
    assert Connection("203.0.113.7", "bookinfo/details-v1", "TCP", 9080) in result.allowed_not_observed


def test_no_policies_allow_everything_and_the_lists_are_capped() -> None:
    _, nodes, edges = generated()
    result = verify([], nodes, edges, limit=5)
    assert len(result.allowed_not_observed) == 5
    assert result.allowed_not_observed_count > 100
    assert result.observed_not_allowed_count == 0


def test_recipe_deny_all_denies_observed_traffic() -> None:
    web, client = pod("default", "web", app="web"), pod("default", "client", app="client")
    result = verify([recipe("01-")], [web, client], [edge("default/client", "default/web", 80)])
    assert result.observed_not_allowed == [Connection("default/client", "default/web", "TCP", 80)]


def test_icmp_is_observed_not_allowed_and_flagged_inexpressible() -> None:
    nodes = [pod("shop", "cart", app="cart"), ip("192.0.2.9")]
    edges = [edge("192.0.2.9", "shop/cart", 443), edge("192.0.2.9", "shop/cart", None, "ICMP")]
    result = generate_policies([(nodes, edges)])
    verification = verify(result.manifests(), result.nodes, result.edges)
    assert verification.observed_not_allowed == [Connection("192.0.2.9", "shop/cart", "ICMP", None)]
    assert verification.inexpressible == verification.observed_not_allowed


def test_two_hundred_workloads_verify_exactly_and_fast() -> None:
    nodes = [pod("mesh", f"svc-{i}", app=f"svc-{i}", tier=str(i % 5)) for i in range(200)]
    nodes += [pod("kube-system", "coredns", **{"k8s-app": "kube-dns"})] + [
        ip(f"198.51.100.{i}") for i in range(20)
    ]
    edges = []
    for i in range(200):
        for j in (i + 1, i + 7, i * 3):
            edges.append(edge(f"mesh/svc-{i}", f"mesh/svc-{j % 200}", 8000 + j % 40))
        edges.append(edge(f"mesh/svc-{i}", "kube-system/coredns", 53, "UDP"))
        edges.append(edge(f"198.51.100.{i % 20}", f"mesh/svc-{i}", 443))
    result = generate_policies([(nodes, edges)])
    started = time.perf_counter()
    verification = verify(result.manifests(), result.nodes, result.edges)
    elapsed = time.perf_counter() - started
    assert verification.exact, verification.allowed_not_observed[:3] + verification.observed_not_allowed[:3]
    assert elapsed < 30, f"verify took {elapsed:.1f}s"
