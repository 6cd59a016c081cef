"""Violations as findings and incidents: one incident per policy and day, explained in the violation's words."""

from __future__ import annotations

from typing import Any

import pytest

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.detect.incidents import group_incidents, key_of
from jobs.engines.detect.violation_findings import findings_of_violations, violation_policy

HOUR = 3600.0
EXPLAIN = "checkout → payments:8443 would be blocked by sg-payments: no ingress rule admits app=checkout on TCP/8443"


def _event(src: str = "shop/checkout", port: int = 8443, event_id: int = 1, **extra: Any) -> dict[str, Any]:
    name = src.split("/")[-1]
    event = {
        "id": event_id,
        "kind": "violation",
        "signature": f"violation|{src}|shop/payments|{port}|TCP|ingress",
        "src": src,
        "dst": "shop/payments",
        "dst_port": port,
        "protocol": "TCP",
        "risk": 45.0,
        "policy_id": 7,
        "explanation": EXPLAIN.replace("checkout", name).replace("8443", str(port)),
        "reasons": [{"code": "policy_denies", "detail": "no ingress rule", "policy": "shop/sg-payments"}],
        "evidence": {"direction": "ingress", "namespace": "shop", "flows": 3, "bytes": 100,
                     "policies": ["shop/sg-payments"], "missing": f"no ingress rule admits app={name}"},
    }
    return event | extra


def test_a_violation_becomes_a_finding_of_its_policy() -> None:
    (finding,) = findings_of_violations([_event()], home=HomeNetworks.of(), window_start=0.0, window_end=HOUR)
    assert (finding.kind, finding.actor, finding.target, finding.direction) == (
        "violation", "shop/sg-payments", "shop", "internal")
    assert finding.hosts == frozenset({"shop/checkout → shop/payments:8443/tcp"})
    assert (finding.facts["event_ref"], finding.facts["policy_id"], finding.attempts) == (1, 7, 3)
    assert key_of(finding) == "violation|internal|shop/sg-payments|"


def test_one_flow_reads_as_its_explanation_and_several_as_the_policy_blocking_them() -> None:
    home = HomeNetworks.of()
    first = findings_of_violations([_event()], home=home, window_start=0.0, window_end=HOUR)
    (one,) = group_incidents(first)
    assert one.summary == EXPLAIN and one.severity == "medium"
    later = findings_of_violations([_event(event_id=2)], home=home, window_start=HOUR, window_end=2 * HOUR)
    (again,) = group_incidents(later, open_incidents=[one])
    assert again.summary == f"{EXPLAIN} (in 2 windows over 2 h)"
    more = findings_of_violations([_event("shop/api", 9090, 3), _event("shop/web", 8443, 4)], home=home,
                                  window_start=2 * HOUR, window_end=3 * HOUR)
    (many,) = group_incidents(more, open_incidents=[again])
    assert many.events == 4 and many.summary.startswith(
        "sg-payments would block 3 flows (shop/api → shop/payments:9090/tcp, shop/checkout → shop/payments:8443/tcp, "
        "shop/web → shop/payments:8443/tcp) over 3 h; latest: ")


def test_a_violation_without_a_policy_or_another_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="names no policy"):
        violation_policy(_event(reasons=[], evidence={"flows": 1}))
    with pytest.raises(ValueError, match="is not a violation"):
        findings_of_violations([_event(kind="new_edge")], home=HomeNetworks.of(), window_start=0.0, window_end=1.0)
    assert violation_policy(_event(reasons=[], evidence={"policies": ["shop/b", "shop/c"]})) == "shop/b"
