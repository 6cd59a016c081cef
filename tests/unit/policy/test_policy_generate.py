"""Generation on hand-made bookinfo-like snapshots: one valid, exact policy per workload."""

from __future__ import annotations

from kubernetes.client import V1NetworkPolicy
from policy_builders import bookinfo_edges, bookinfo_nodes, edge, ip, pod

from jobs.engines.policy.evaluate import PolicySet, verify
from jobs.engines.policy.generate import GeneratedPolicy, GenerationResult, generate_policies
from jobs.engines.policy.validate import parse_model, validate_manifest, validate_yaml
from jobs.engines.snapshot.types import NodeRecord

BOOKINFO = [(bookinfo_nodes(), bookinfo_edges())]


def by_name(result: GenerationResult) -> dict[str, GeneratedPolicy]:
    return {policy.name: policy for policy in result.policies}


def test_one_policy_per_workload_with_readable_names_and_labels() -> None:
    result = generate_policies(BOOKINFO, snapshot_ids=[41])
    assert sorted(by_name(result)) == [
        "sg-coredns",
        "sg-details-v1",
        "sg-productpage-v1",
        "sg-ratings-v1",
        "sg-reviews-v1",
    ]
    for policy in result.policies:
        metadata = policy.manifest["metadata"]
        assert metadata["labels"] == {"app.kubernetes.io/managed-by": "secureguard"}
        assert metadata["annotations"]["secureguard.io/workload"] == policy.workload
        assert metadata["annotations"]["secureguard.io/generated-from"].startswith("snapshots 41; ")
        assert policy.manifest["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert result.skipped == []


def test_selector_drops_unstable_labels_and_peers_use_and_semantics() -> None:
    reviews = by_name(generate_policies(BOOKINFO))["sg-reviews-v1"].manifest
    assert reviews["spec"]["podSelector"] == {"matchLabels": {"app": "reviews", "version": "v1"}}
    (rule,) = reviews["spec"]["ingress"]
    assert rule["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "bookinfo"}},
            "podSelector": {"matchLabels": {"app": "productpage", "version": "v1"}},
        }
    ]
    assert rule["ports"] == [{"port": 9080, "protocol": "TCP"}]
    dns, ratings = reviews["spec"]["egress"]
    assert dns["to"][0]["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
    }
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    assert dns["ports"] == [{"port": 53, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]
    assert ratings["to"][0]["podSelector"]["matchLabels"]["app"] == "ratings"


def test_external_peer_becomes_a_slash_32_ip_block_and_sender_only_gets_no_ingress() -> None:
    policies = by_name(generate_policies(BOOKINFO))
    assert policies["sg-productpage-v1"].manifest["spec"]["ingress"] == [
        {"from": [{"ipBlock": {"cidr": "203.0.113.7/32"}}], "ports": [{"port": 9080, "protocol": "TCP"}]}
    ]
    v6 = [([*bookinfo_nodes(), ip("2001:db8::7")], [edge("2001:db8::7", "bookinfo/details-v1", 9080)])]
    details = by_name(generate_policies(v6))["sg-details-v1"].manifest
    assert details["spec"]["ingress"][0]["from"] == [{"ipBlock": {"cidr": "2001:db8::7/128"}}]
    assert by_name(generate_policies(v6))["sg-ratings-v1"].manifest["spec"]["ingress"] == []


def test_every_policy_is_schema_valid_and_parses_into_client_models() -> None:
    result = generate_policies(BOOKINFO)
    for policy in result.policies:
        outcome = validate_manifest(policy.manifest)
        assert outcome.errors == []
        assert isinstance(outcome.model, V1NetworkPolicy)
        assert outcome.model.metadata.name == policy.name
        (from_yaml,) = validate_yaml(policy.yaml)
        assert from_yaml.ok
    model = parse_model(by_name(result)["sg-reviews-v1"].manifest)
    peer = model.spec.ingress[0]._from[0]
    assert peer.pod_selector.match_labels == {"app": "productpage", "version": "v1"}
    assert peer.namespace_selector.match_labels == {"kubernetes.io/metadata.name": "bookinfo"}


def test_generated_policies_allow_exactly_the_observed_traffic() -> None:
    result = generate_policies(BOOKINFO)
    verification = verify(result.manifests(), result.nodes, result.edges)
    assert verification.exact, verification
    pset = PolicySet(result.manifests(), result.nodes)
    assert pset.allows("bookinfo/reviews-v1", "bookinfo/ratings-v1", 9080)
    assert not pset.allows("bookinfo/productpage-v1", "bookinfo/ratings-v1", 9080)
    assert not pset.allows("bookinfo/reviews-v1", "bookinfo/ratings-v1", 9081)


def test_yaml_is_deterministic_whatever_the_input_order() -> None:
    first = generate_policies(BOOKINFO)
    shuffled = generate_policies([(list(reversed(bookinfo_nodes())), list(reversed(bookinfo_edges())))])
    assert [p.yaml for p in first.policies] == [p.yaml for p in shuffled.policies]
    assert first.policies[0].yaml == generate_policies(BOOKINFO).policies[0].yaml


def test_hubble_style_labels_give_the_same_selectors() -> None:
    plain = by_name(generate_policies(BOOKINFO))
    hubble = by_name(generate_policies([(bookinfo_nodes(prefixed=True), bookinfo_edges())]))
    assert hubble["sg-reviews-v1"].manifest["spec"] == plain["sg-reviews-v1"].manifest["spec"]
    result = generate_policies([(bookinfo_nodes(prefixed=True), bookinfo_edges())])
    assert verify(result.manifests(), result.nodes, result.edges).exact


def test_union_of_snapshots_sums_traffic_and_keeps_labels_seen_in_all() -> None:
    later = [
        NodeRecord(
            n.key,
            n.name,
            n.kind,
            n.namespace,
            {**n.labels, "version": "v2"} if n.name == "ratings-v1" else n.labels,
        )
        for n in bookinfo_nodes()
    ]
    result = generate_policies(
        [BOOKINFO[0], (later, [edge("bookinfo/reviews-v1", "bookinfo/ratings-v1", 9080, minute=5)])]
    )
    ratings = by_name(result)["sg-ratings-v1"]
    assert ratings.manifest["spec"]["podSelector"] == {"matchLabels": {"app": "ratings"}}
    rules = ratings.manifest["metadata"]["annotations"]["secureguard.io/rules"]
    assert "ingress[0] bookinfo/reviews-v1 9080/TCP: 1 edge(s), 11 flow(s)" in rules
    assert verify(result.manifests(), result.nodes, result.edges).exact


def test_dns_rule_uses_the_labels_the_dns_pods_really_have() -> None:
    nodes = [
        pod("shop", "cart", app="cart"),
        pod("kube-system", "node-local-dns-x", **{"k8s-app": "node-local-dns"}),
    ]
    result = generate_policies([(nodes, [edge("shop/cart", "kube-system/node-local-dns-x", 53, "UDP")])])
    cart = by_name(result)["sg-cart"]
    assert cart.manifest["spec"]["egress"][0]["to"][0]["podSelector"] == {
        "matchLabels": {"k8s-app": "node-local-dns"}
    }
    assert len(cart.manifest["spec"]["egress"]) == 1, "the DNS edge is covered by the DNS rule"


def test_unidentifiable_workloads_and_peers_become_notes_not_rules() -> None:
    nodes = [
        pod("shop", "cart", app="cart"),
        pod("shop", "legacy", **{"pod-template-hash": "abc"}),
        NodeRecord("?/orphan", "orphan", "workload", None, {"app": "orphan"}),
    ]
    edges = [
        edge("shop/legacy", "shop/cart", 8080),
        edge("?/orphan", "shop/cart", 8080),
        edge("shop/cart", "shop/legacy", 9090),
    ]
    result = generate_policies([(nodes, edges)], exclude_namespaces=["kube-system"])
    assert {s.workload: s.reason for s in result.skipped} == {
        "?/orphan": "the source does not know its namespace, so no policy can select it",
        "shop/legacy": "no stable label to select it by (pod labels: pod-template-hash)",
    }
    (cart,) = result.policies
    assert cart.manifest["spec"]["ingress"] == []
    assert any(
        note.startswith("ingress from ?/orphan not allowed: the source does not know") for note in cart.notes
    )
    assert any(note.startswith("egress to shop/legacy not allowed: no stable label") for note in cart.notes)


def test_icmp_and_unknown_ports_are_noted() -> None:
    nodes = [pod("shop", "cart", app="cart"), ip("192.0.2.9")]
    edges = [edge("192.0.2.9", "shop/cart", None, "ICMP"), edge("192.0.2.9", "shop/cart", None, "UDP")]
    (cart,) = generate_policies([(nodes, edges)]).policies
    assert cart.manifest["spec"]["ingress"] == [
        {"from": [{"ipBlock": {"cidr": "192.0.2.9/32"}}], "ports": [{"protocol": "UDP"}]}
    ]
    assert any("NetworkPolicy cannot express ICMP" in note for note in cart.notes)
    assert any("every UDP port is allowed" in note for note in cart.notes)
    verification = verify([cart.manifest], nodes, edges)
    assert [c.protocol for c in verification.inexpressible] == ["ICMP"]


def test_overlapping_selectors_and_name_clashes_are_handled() -> None:
    nodes = [
        pod("shop", "cart", app="cart"),
        pod("shop", "cart_v2", app="cart", track="canary"),
        pod("shop", "cart.v2", app="x"),
    ]
    result = generate_policies([(nodes, [])])
    names = [p.name for p in result.policies]
    assert names[0] == "sg-cart" and names[1] == "sg-cart-v2" and names[2].startswith("sg-cart-v2-")
    assert all(validate_manifest(p.manifest).ok for p in result.policies)
    assert "podSelector also selects shop/cart_v2" in result.policies[0].notes[0]
