"""Monitor mode's violations as findings, so they fold into incidents beside detection's and drift's.

    findings_of_violations(events, home=…, window_start=…, window_end=…) -> [Finding]

A violation (`jobs.engines.policy.monitor.Violation`, stored as a drift event of kind `violation`) is a flow the
approved policies of a monitored namespace would deny. Its finding's actor is the policy that would block it
(`namespace/name`, from the event's reason), so `incidents.group_incidents` makes one incident per policy and day:
the flows one policy would block are read, amended or confirmed together. The target is the denied side's
namespace; `hosts` holds the flow ("shop/checkout → shop/payments:8443/tcp"); the facts hold the event (`event_ref`:
the stored id, else the signature) so the job can link it. The explanation is the event's ("checkout →
payments:8443 would be blocked by sg-payments: no ingress rule admits app=checkout on TCP/8443").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jobs.engines.detect.drift_findings import DriftEventLike, direction_of
from jobs.engines.detect.home import HomeNetworks
from jobs.engines.detect.records import Finding, port_label


def _value(event: DriftEventLike | Mapping[str, Any], name: str) -> Any:
    if isinstance(event, Mapping):
        return event.get(name)
    return getattr(event, name, None)


def violation_policy(event: DriftEventLike | Mapping[str, Any]) -> str:
    """The `namespace/name` of the policy that would block the violation's flow (its first reason's `policy`)."""
    reasons = _value(event, "reasons") or []
    for reason in reasons:
        if isinstance(reason, Mapping) and reason.get("policy"):
            return str(reason["policy"])
    evidence: Mapping[str, Any] = _value(event, "evidence") or {}
    policies = evidence.get("policies") or []
    if policies:
        return str(policies[0])
    raise ValueError(f"violation {_value(event, 'signature')!r} names no policy")


def findings_of_violations(events: Sequence[DriftEventLike | Mapping[str, Any]], *, home: HomeNetworks,
                           window_start: float, window_end: float) -> list[Finding]:
    """One finding per violation of one window (epoch seconds); ValueError on another kind, a violation naming no
    policy, or a window that ends before it starts."""
    if window_end < window_start:
        raise ValueError(f"window_end {window_end} is before window_start {window_start}")
    return [_finding(event, home, window_start, window_end) for event in events]


def _finding(event: DriftEventLike | Mapping[str, Any], home: HomeNetworks, start: float, end: float) -> Finding:
    if _value(event, "kind") != "violation":
        raise ValueError(f"{_value(event, 'kind')!r} is not a violation")
    src, dst = str(_value(event, "src")), str(_value(event, "dst"))
    port, protocol = _value(event, "dst_port"), str(_value(event, "protocol") or "").lower()
    evidence: Mapping[str, Any] = _value(event, "evidence") or {}
    label = port_label(port, protocol) if protocol else ""
    flow = f"{src} → {dst}:{label}" if label else f"{src} → {dst}"
    policy = violation_policy(event)
    flows = int(evidence.get("flows", 0))
    signature = str(_value(event, "signature"))
    stored_id = _value(event, "id")
    risk = float(_value(event, "risk"))
    facts = {"event_ref": signature if stored_id is None else stored_id, "signature": signature, "endpoint": flow,
             "ports_by_count": [label] if label else [], "bytes": int(evidence.get("bytes", 0)), "event_risk": risk,
             "policy": policy, "policy_id": _value(event, "policy_id"), "missing": str(evidence.get("missing", "")),
             "rule_direction": str(evidence.get("direction", ""))}
    namespace = str(evidence.get("namespace") or policy.split("/", 1)[0])
    return Finding(
        kind="violation", direction=direction_of(src, dst, home), actor=policy, target=namespace, service="",
        first_ts=start, last_ts=end, attempts=flows, answered=flows, risk=risk, sources=frozenset({src}),
        hosts=frozenset({flow}), ports=frozenset({label} if label else ()),
        explanation=str(_value(event, "explanation") or ""), facts=facts,
    )
