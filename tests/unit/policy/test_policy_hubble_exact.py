"""Issue 19 part A: every policy generated from each real Hubble capture is exact by our own evaluator.

"Exact" is `preview.policy_verifications`' per-policy verdict over `evaluate.verify`: the policy admits
every observed connection of its workload and no other. Files come from ../shared/data/hubble (the test
skips with the reason when they are absent).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.engines.flows import parse_file
from jobs.engines.policy.generate import generate_policies
from jobs.engines.policy.proof import generate_and_prove
from jobs.engines.snapshot.builder import build_snapshots
from tests.conftest import SHARED_DATA

HUBBLE = SHARED_DATA / "hubble"
FILES = sorted(HUBBLE.glob("*.json")) if HUBBLE.is_dir() else []


def _snapshots(path: Path) -> list[tuple[list, list]]:  # type: ignore[type-arg]
    frame = parse_file(path, "hubble").frame
    return [(s.nodes, s.edges) for s in build_snapshots(frame, window_seconds=3600).values()]


@pytest.mark.skipif(not FILES, reason=f"{HUBBLE} is absent (shared sample data not installed)")
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_every_generated_policy_is_exact(path: Path) -> None:
    proven = generate_and_prove(_snapshots(path))
    inexact = {p.workload: p.verification for p in proven.policies if not p.verification["exact"]}
    assert not inexact
    assert not proven.invalid
    assert proven.observed_not_allowed == 0


@pytest.mark.skipif(not FILES, reason=f"{HUBBLE} is absent (shared sample data not installed)")
def test_world_peers_get_an_ipblock_rule_not_a_note() -> None:
    result = generate_policies(_snapshots(HUBBLE / "basic-sample-348-http-flows.json"))
    prometheus = next(p for p in result.policies if p.workload == "istio-system/prometheus")
    assert not [note for note in prometheus.notes if "not allowed" in note]
    peers = [peer for rule in prometheus.manifest["spec"]["egress"] for peer in rule["to"]]
    blocks = {peer["ipBlock"]["cidr"] for peer in peers if "ipBlock" in peer}
    assert blocks and all(cidr.endswith("/32") for cidr in blocks)
