"""Generation's input cut (`generation_input.workload_part`) and the observation behind each policy.

The cut must not change what is generated or proven: on every real Hubble file the policies, their YAML
and their per-policy proof are those of the uncut windows. Windows without workloads (Zeek, VPC) drop out.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from jobs.engines.flows import parse_file
from jobs.engines.policy.evaluate import verify
from jobs.engines.policy.generate import generate_policies
from jobs.engines.policy.generation_input import observations, workload_part
from jobs.engines.policy.proof import generate_and_prove
from jobs.engines.snapshot.builder import build_snapshots
from tests.conftest import SHARED_DATA
from tests.unit.policy.policy_builders import T0, edge, ip, pod

HUBBLE = SHARED_DATA / "hubble"
FILES = sorted(HUBBLE.glob("*.json")) if HUBBLE.is_dir() else []


def _windows(path: Path) -> list[tuple[list, list]]:  # type: ignore[type-arg]
    frame = parse_file(path, "hubble").frame
    return [(list(s.nodes), list(s.edges)) for s in build_snapshots(frame, window_seconds=3600).values()]


def _noise(count: int) -> tuple[list, list]:  # type: ignore[type-arg]
    """A Zeek-like window: addresses talking to addresses, no workload."""
    nodes = [ip(f"203.0.113.{i}") for i in range(1, count + 1)]
    return nodes, [edge(f"203.0.113.{i}", f"203.0.113.{i % count + 1}", 443) for i in range(1, count + 1)]


@pytest.mark.skipif(not FILES, reason=f"{HUBBLE} is absent (shared sample data not installed)")
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_the_cut_generates_and_proves_the_same_policies(path: Path) -> None:
    windows = _windows(path)
    whole, cut = generate_policies(windows), generate_policies(workload_part([*windows, _noise(50)]))
    assert [p.yaml for p in cut.policies] == [p.yaml for p in whole.policies]
    assert cut.skipped == whole.skipped
    before = verify(whole.manifests(), whole.nodes, whole.edges)
    after = verify(cut.manifests(), cut.nodes, cut.edges)
    assert (after.exact, after.allowed_not_observed_count, after.observed_not_allowed_count) == (
        before.exact,
        before.allowed_not_observed_count,
        before.observed_not_allowed_count,
    )


def test_windows_without_workloads_drop_out_and_generate_nothing() -> None:
    assert workload_part([_noise(20), _noise(5)]) == []
    proven = generate_and_prove([_noise(20)], snapshot_ids=[7])
    assert proven.policies == [] and proven.windows == 1 and proven.workload_windows == 0


def test_the_cut_keeps_peers_and_nodes_sharing_their_address() -> None:
    web, db = pod("shop", "web", app="web"), pod("shop", "db", app="db")
    peer = ip("198.51.100.7")
    alias = ip("alias-host")
    alias = type(alias)(key="alias-host", name="alias-host", kind="external", ips=("198.51.100.7",))
    stranger = ip("203.0.113.9")
    window = (
        [web, db, peer, alias, stranger],
        [
            edge("shop/web", "shop/db", 5432),
            edge("shop/web", "198.51.100.7", 443),
            edge("203.0.113.9", "203.0.113.10", 22),
        ],
    )
    ((nodes, edges),) = workload_part([window])
    assert {n.key for n in nodes} == {"shop/web", "shop/db", "198.51.100.7", "alias-host"}
    assert len(edges) == 2


def test_observation_spans_flows_and_windows_per_workload() -> None:
    web, db = pod("shop", "web", app="web"), pod("shop", "db", app="db")
    first = ([web, db], [edge("shop/web", "shop/db", 5432, flows=3, minute=0)])
    later = ([web, db], [edge("shop/web", "shop/db", 5432, flows=5, minute=60 * 30)])
    seen = observations([first, later])
    assert seen["shop/web"].first_seen == T0
    assert seen["shop/web"].last_seen == T0 + timedelta(minutes=60 * 30, seconds=30)
    assert seen["shop/web"].flows == 8 and seen["shop/web"].windows == 2
    assert round(seen["shop/db"].hours, 2) == 30.01
    proven = generate_and_prove([first, later], snapshot_ids=[1, 2])
    check = {p.workload: p.verification for p in proven.policies}["shop/web"]
    assert check["observed_flows"] == 8 and check["observed_windows"] == 2
    assert check["observed_from"] == T0.isoformat()
