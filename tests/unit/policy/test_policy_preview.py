"""The review helpers: impact of one candidate against the policies in force, per-policy proof, fingerprints."""

from __future__ import annotations

import copy

from policy_builders import bookinfo_edges, bookinfo_nodes, edge

from jobs.engines.policy.evaluate import verify
from jobs.engines.policy.generate import generate_policies
from jobs.engines.policy.preview import candidate_impact, policy_verifications, selected_keys
from jobs.engines.policy.proof import generate_and_prove, rules_fingerprint

SNAPSHOTS = [
    (bookinfo_nodes(), bookinfo_edges()),
    (bookinfo_nodes(), [edge("bookinfo/reviews-v1", "bookinfo/ratings-v1", 9080, flows=5, minute=5)]),
]


def by_name() -> dict[str, dict]:
    return {m["metadata"]["name"]: m for m in generate_policies(SNAPSHOTS).manifests()}


def test_narrowed_candidate_blocks_exactly_what_it_dropped_with_counts() -> None:
    policies = by_name()
    candidate = copy.deepcopy(policies.pop("sg-ratings-v1"))
    candidate["spec"]["ingress"] = []
    (blocked,) = candidate_impact(candidate, list(policies.values()), SNAPSHOTS)
    assert (blocked.src, blocked.dst, blocked.dst_port, blocked.flows, blocked.snapshots) == (
        "bookinfo/reviews-v1", "bookinfo/ratings-v1", 9080, 12, 2)
    assert blocked.side == "ingress" and blocked.policies == ("bookinfo/sg-ratings-v1",)


def test_unchanged_candidate_blocks_nothing_and_an_old_block_is_not_blamed_on_it() -> None:
    policies = by_name()
    ratings = policies.pop("sg-ratings-v1")
    assert candidate_impact(ratings, list(policies.values()), SNAPSHOTS) == []
    # reviews' egress no longer admits ratings: that block is in force already, not the candidate's doing
    reviews = copy.deepcopy(policies["sg-reviews-v1"])
    reviews["spec"]["egress"] = reviews["spec"]["egress"][:1]
    policies["sg-reviews-v1"] = reviews
    assert candidate_impact(ratings, list(policies.values()), SNAPSHOTS) == []


def test_candidate_selecting_nothing_has_no_impact() -> None:
    stray = {"metadata": {"name": "x", "namespace": "bookinfo"},
             "spec": {"podSelector": {"matchLabels": {"app": "nothing"}}, "policyTypes": ["Ingress"]}}
    assert selected_keys(stray, bookinfo_nodes()) == frozenset()
    assert candidate_impact(stray, [], SNAPSHOTS) == []


def test_per_policy_verification_names_only_its_own_connections() -> None:
    result = generate_policies(SNAPSHOTS)
    manifests = result.manifests()
    # the outside client is not isolated, so a wider ingress port on productpage lets more in
    page = next(m for m in manifests if m["metadata"]["name"] == "sg-productpage-v1")
    page["spec"]["ingress"][0]["ports"] = [{"port": 9080, "endPort": 9081, "protocol": "TCP"}]
    proof = verify(manifests, result.nodes, result.edges)
    workloads = [p.workload for p in result.policies]
    shares = dict(zip(workloads, policy_verifications(workloads, proof, result.edges), strict=True))
    assert not proof.exact and not shares["bookinfo/productpage-v1"]["exact"]
    extra = shares["bookinfo/productpage-v1"]["allowed_not_observed"]
    assert extra == [{"src": "203.0.113.7", "dst": "bookinfo/productpage-v1", "protocol": "TCP", "port": 9081,
                      "end_port": None}]
    assert shares["bookinfo/details-v1"]["exact"] and shares["bookinfo/details-v1"]["observed"] > 0


def test_generate_and_prove_is_exact_and_fingerprints_ignore_provenance() -> None:
    proven = generate_and_prove(SNAPSHOTS, snapshot_ids=[7, 8])
    assert proven.exact and proven.invalid == [] and proven.skipped == []
    assert all(p.verification["exact"] and p.verification["schema_errors"] == [] for p in proven.policies)
    later = generate_and_prove(SNAPSHOTS[:1] + SNAPSHOTS[1:], snapshot_ids=[9, 10])
    assert [p.rules_sha256 for p in later.policies] == [p.rules_sha256 for p in proven.policies]
    assert [p.yaml for p in later.policies] != [p.yaml for p in proven.policies]
    manifest = copy.deepcopy(by_name()["sg-details-v1"])
    before = rules_fingerprint(manifest)
    manifest["spec"]["ingress"][0]["ports"][0]["port"] = 9090
    assert rules_fingerprint(manifest) != before
