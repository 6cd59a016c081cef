"""blocked_edges(): what a candidate set would cut, with counts."""

from __future__ import annotations

from policy_builders import bookinfo_edges, bookinfo_nodes, edge

from jobs.engines.policy.generate import generate_policies
from jobs.engines.policy.impact import BlockedEdge, blocked_edges

SNAPSHOTS = [
    (bookinfo_nodes(), bookinfo_edges()),
    (bookinfo_nodes(), [edge("bookinfo/reviews-v1", "bookinfo/ratings-v1", 9080, flows=5, minute=5)]),
]


def test_generated_policies_block_nothing_observed() -> None:
    policies = generate_policies(SNAPSHOTS).manifests()
    assert blocked_edges(policies, SNAPSHOTS) == []


def test_policy_omitting_an_observed_edge_lists_it_with_counts() -> None:
    policies = generate_policies(SNAPSHOTS).manifests()
    ratings = next(p for p in policies if p["metadata"]["name"] == "sg-ratings-v1")
    ratings["spec"]["ingress"] = []
    (blocked,) = blocked_edges(policies, SNAPSHOTS)
    assert blocked == BlockedEdge(
        src="bookinfo/reviews-v1",
        dst="bookinfo/ratings-v1",
        dst_port=9080,
        protocol="TCP",
        bytes=1500 * 12,
        packets=10 * 12,
        flows=12,
        snapshots=2,
        first_seen=blocked.first_seen,
        last_seen=blocked.last_seen,
        side="ingress",
        policies=("bookinfo/sg-ratings-v1",),
    )
    assert (blocked.last_seen - blocked.first_seen).total_seconds() == 5 * 60 + 30


def test_blocked_edges_are_sorted_heaviest_first_and_name_the_side() -> None:
    deny_egress = {
        "metadata": {"name": "deny-egress", "namespace": "bookinfo"},
        "spec": {"podSelector": {"matchLabels": {"app": "productpage"}}, "policyTypes": ["Egress"]},
    }
    blocked = blocked_edges([deny_egress], SNAPSHOTS)
    assert [(b.dst, b.flows, b.side) for b in blocked] == [
        ("bookinfo/reviews-v1", 20, "egress"),
        ("bookinfo/details-v1", 12, "egress"),
        ("kube-system/coredns", 2, "egress"),
    ]
