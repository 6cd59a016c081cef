"""Analysts' verdicts move the risk and the ranking of the same pattern in the next window."""

from __future__ import annotations

from functools import cache

from jobs.engines.drift import Baseline, DriftEventRecord, Verdict, analyze, build_baseline, update_baseline
from jobs.engines.drift.records import VerdictKind

from .builders import NOW
from .scenario import BACKUP, Scenario, build_scenario, followup_window

SEED = 7


@cache
def scenario_and_baseline() -> tuple[Scenario, Baseline]:
    scenario = build_scenario(SEED)
    return scenario, build_baseline(scenario.history)


def attack_events() -> list[DriftEventRecord]:
    scenario, baseline = scenario_and_baseline()
    return analyze(scenario.attack, scenario.history[-1], baseline,
                   criticality=scenario.criticality, now=NOW)


def next_window(verdicts: list[Verdict]) -> list[DriftEventRecord]:
    scenario, baseline = scenario_and_baseline()
    baseline = update_baseline(baseline, scenario.attack)
    current = followup_window(SEED, len(scenario.history) + 1)
    return analyze(current, scenario.attack, baseline, feedback=verdicts,
                   criticality=scenario.criticality, now=NOW)


def pick(events: list[DriftEventRecord], kind: str, src: str, dst: str) -> DriftEventRecord:
    [event] = [e for e in events if (e.kind, e.src, e.dst) == (kind, src, dst)]
    return event


def judged(kind: str, src: str, dst: str, verdict: VerdictKind) -> list[Verdict]:
    return [Verdict.of(pick(attack_events(), kind, src, dst), verdict)]


def test_false_positive_lowers_and_true_positive_raises_the_same_pattern() -> None:
    pattern = ("traffic_spike", "shop/worker", BACKUP)
    plain = pick(next_window([]), *pattern).risk
    after_fp = pick(next_window(judged(*pattern, "false_positive")), *pattern)
    after_tp = pick(next_window(judged(*pattern, "true_positive")), *pattern)
    assert after_fp.risk <= plain - 5
    assert after_tp.risk >= plain + 3
    assert any(r.feature == "feedback" and r.contribution < 0 for r in after_fp.reasons)


def test_false_positive_moves_the_event_down_the_ranking() -> None:
    pattern = ("new_edge", "shop/cart", "payments/payments-db")
    plain = next_window([])
    demoted = next_window([Verdict.of(pick(plain, *pattern), "false_positive")])
    def rank(events: list[DriftEventRecord]) -> int:
        return events.index(pick(events, *pattern))
    assert rank(demoted) > rank(plain)


def test_verdict_on_one_source_lowers_the_same_target_from_another() -> None:
    lateral = ("new_edge", "shop/catalog", "payments/payments-db")
    probe = ("new_edge", "shop/cart", "payments/payments-db")
    plain = pick(next_window([]), *probe).risk
    coarse = pick(next_window(judged(*lateral, "false_positive")), *probe).risk
    exact = pick(next_window([Verdict.of(pick(next_window([]), *probe), "false_positive")]), *probe).risk
    assert exact < coarse < plain
