"""Unified YAML diffs between the approved version and a candidate."""

from __future__ import annotations

import copy

from policy_builders import bookinfo_edges, bookinfo_nodes, edge

from jobs.engines.policy.diff import diff_manifests, diff_yaml
from jobs.engines.policy.generate import generate_policies


def reviews_policy(extra_edges: list | None = None) -> dict:
    result = generate_policies([(bookinfo_nodes(), bookinfo_edges() + (extra_edges or []))])
    return next(p.manifest for p in result.policies if p.name == "sg-reviews-v1")


def test_equal_texts_have_no_diff() -> None:
    manifest = reviews_policy()
    assert diff_manifests(manifest, copy.deepcopy(manifest)) == ""


def test_new_port_shows_as_added_lines_with_headers() -> None:
    before = reviews_policy()
    after = reviews_policy([edge("bookinfo/productpage-v1", "bookinfo/reviews-v1", 9443)])
    text = diff_manifests(before, after, ignore_provenance=True)
    assert text.startswith("--- approved/sg-reviews-v1.yaml\n+++ candidate/sg-reviews-v1.yaml\n")
    assert "+    - port: 9443\n+      protocol: TCP\n" in text
    assert "secureguard.io/rules" not in text
    assert "secureguard.io/rules" in diff_manifests(before, after), "provenance shows unless ignored"


def test_first_version_diffs_against_nothing() -> None:
    text = diff_yaml(None, "a: 1\nb: 2\n", name="p")
    assert text.splitlines()[:2] == ["--- /dev/null", "+++ candidate/p.yaml"]
    assert text.endswith("+b: 2\n")


def test_missing_final_newline_keeps_lines_apart() -> None:
    assert diff_yaml("a: 1", "a: 2", name="p").splitlines()[-2:] == ["-a: 1", "+a: 2"]
