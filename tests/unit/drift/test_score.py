"""Risk from named features: each feature moves the risk the way an analyst expects."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.engines.drift import Verdict, analyze, build_baseline
from jobs.engines.drift.feedback import FeedbackIndex
from jobs.engines.drift.nodes import NodeView
from jobs.engines.drift.records import Detection, EventKind
from jobs.engines.drift.score import Score, ScoreContext, score_detection, severity_of

from .builders import NOW, edge, nodes_of, snapshot

NOVEL = {"bytes": 50_000, "flows": 3, "windows_seen": 0, "baseline_windows": 24, "window_count": 24}
NODES = {
    "shop/api": NodeView("shop/api", "api", False, "shop", {"app": "api"}),
    "shop/postgres": NodeView("shop/postgres", "postgres", False, "shop", {"tier": "db"}),
    "pay/ledger": NodeView("pay/ledger", "ledger", False, "pay", {}),
    "45.77.23.9": NodeView("45.77.23.9", "45.77.23.9", True),
}


def score(kind: EventKind = "new_edge", dst: str = "shop/postgres", port: int | None = 8080,
          facts: dict[str, Any] | None = None, **context: Any) -> Score:
    detection = Detection(kind, "shop/api", dst, port, "tcp", facts if facts is not None else NOVEL)
    return score_detection(detection, ScoreContext(nodes=NODES, **context))


def features(result: Score) -> dict[str, float]:
    return {r.feature: r.contribution for r in result.reasons}


def test_sensitive_port_raises_risk_and_names_the_service() -> None:
    ssh, web = score(port=22), score(port=8080)
    assert ssh.risk > web.risk
    [reason] = [r for r in ssh.reasons if r.feature == "port_sensitivity"]
    assert reason.evidence == "port 22/tcp is ssh"
    assert "port_sensitivity" not in features(web)


def test_external_peer_raises_risk() -> None:
    assert score(dst="45.77.23.9").risk > score(dst="pay/ledger").risk


def test_criticality_by_label_and_by_name_pattern() -> None:
    plain = score(dst="shop/postgres")
    by_label = score(dst="shop/postgres", criticality={"tier=db": 1.0})
    by_name = score(dst="pay/ledger", criticality={"pay/*": 0.5})
    assert by_label.risk > plain.risk
    assert by_name.risk > score(dst="pay/ledger").risk
    assert any(r.evidence == "postgres is labelled tier=db" for r in by_label.reasons)


def test_novelty_grows_with_baseline_maturity() -> None:
    young = score(facts=NOVEL | {"baseline_windows": 2})
    assert young.risk < score().risk
    seen_often = score(kind="new_port", facts=NOVEL | {"windows_seen": 20})
    assert seen_often.risk < score(kind="new_port").risk


def test_fan_out_and_common_destination() -> None:
    lateral = score(facts=NOVEL | {"new_peers": 6})
    dns_like = score(facts=NOVEL | {"target_sources": 9, "known_sources": 10})
    assert features(lateral)["fan_out"] == 20.0
    assert features(dns_like)["common_destination"] < 0
    assert lateral.risk > score().risk > dns_like.risk


def test_a_new_outside_peer_weighs_less_for_a_host_that_already_reaches_many() -> None:
    kind, dst = "new_external", "45.77.23.9"
    server = score(kind=kind, dst=dst, facts=NOVEL | {"known_outside_peers": 1})
    browser = score(kind=kind, dst=dst, facts=NOVEL | {"known_outside_peers": 120})
    some = score(kind=kind, dst=dst, facts=NOVEL | {"known_outside_peers": 10})
    assert "routine_outside" not in features(server)
    assert features(browser)["routine_outside"] == -25.0
    assert server.risk > some.risk > browser.risk
    # only a new outside peer: a new port on a known path says nothing about browsing habits
    assert "routine_outside" not in features(score(kind="new_port", facts=NOVEL | {"known_outside_peers": 120}))


def test_an_external_peer_is_named_as_outside_the_home_networks() -> None:
    [reason] = [r for r in score(kind="new_external", dst="45.77.23.9").reasons if r.feature == "external_peer"]
    assert reason.evidence == "45.77.23.9 is outside the home networks"


def test_spike_volume_grows_with_z() -> None:
    facts = {"bytes": 9e8, "flows": 40, "z_bytes": 300.0, "z_flows": 1.0, "bytes_median": 4e7,
             "flows_median": 12, "windows_seen": 24, "baseline_windows": 24, "window_count": 24}
    huge = score(kind="traffic_spike", facts=facts)
    mild = score(kind="traffic_spike", facts=facts | {"z_bytes": 7.0})
    assert huge.risk > mild.risk
    [volume] = [r for r in huge.reasons if r.feature == "volume"]
    assert volume.evidence == "900.0 MB in this window vs a median of 40.0 MB (robust z 300.0)"


def test_feedback_moves_risk_exact_more_than_coarse() -> None:
    def verdict(src: str, kind: str) -> Verdict:
        return Verdict("new_edge", src, "shop/postgres", 8080, "tcp", kind)  # type: ignore[arg-type]

    base = score().risk
    exact_fp = score(feedback=FeedbackIndex.of([verdict("shop/api", "false_positive")])).risk
    coarse_fp = score(feedback=FeedbackIndex.of([verdict("shop/other", "false_positive")])).risk
    exact_tp = score(feedback=FeedbackIndex.of([verdict("shop/api", "true_positive")])).risk
    assert exact_fp < coarse_fp < base < exact_tp


def test_reasons_sorted_by_absolute_contribution() -> None:
    result = score(port=22, dst="45.77.23.9", facts=NOVEL | {"new_peers": 3, "target_sources": 2,
                                                              "known_sources": 4})
    sizes = [abs(r.contribution) for r in result.reasons]
    assert sizes == sorted(sizes, reverse=True)
    assert all({"feature", "value", "weight", "contribution", "evidence"} <= set(r.to_dict())
               for r in result.reasons)


BANDS = [(0, "info"), (19.9, "info"), (20, "low"), (45, "medium"), (60, "high"), (79.9, "high"),
         (80, "critical"), (100, "critical")]


@pytest.mark.parametrize(("risk", "severity"), BANDS)
def test_severity_bands(risk: float, severity: str) -> None:
    assert severity_of(risk) == severity


# no example database: it would be written outside this package
@settings(database=None)
@given(
    kind=st.sampled_from(["new_edge", "new_port", "new_external", "traffic_spike"]),
    port=st.sampled_from([None, 22, 53, 5432, 8080]),
    nbytes=st.integers(0, 10**13),
    peers=st.integers(0, 50),
    fps=st.integers(0, 20),
)
def test_risk_stays_within_0_and_100(kind: EventKind, port: int | None, nbytes: int, peers: int,
                                     fps: int) -> None:
    verdicts = [Verdict(kind, "shop/api", "45.77.23.9", port, "tcp", "false_positive")] * fps
    facts = NOVEL | {"bytes": nbytes, "new_peers": peers, "z_bytes": 12.0, "z_flows": 1.0, "bytes_median": 1e5,
                     "flows_median": 3}
    result = score(kind=kind, dst="45.77.23.9", port=port, facts=facts, feedback=FeedbackIndex.of(verdicts))
    assert 0.0 <= result.risk <= 100.0
    assert result.severity == severity_of(result.risk)


def test_bad_criticality_weight_is_rejected() -> None:
    edges = [edge("shop/a", "shop/b")]
    past, current = snapshot(0, nodes_of(edges), edges), snapshot(1, nodes_of(edges), edges)
    with pytest.raises(ValueError, match="criticality"):
        analyze(current, past, build_baseline([past]), criticality={"tier=db": 5.0}, now=NOW)
