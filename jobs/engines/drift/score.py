"""Risk 0-100 and severity of a detection, from named features.

Each feature yields a `Reason`: its strength `value` (0..1; negative for features that argue the
event is benign), its `weight` in raw points and `contribution` = weight x value. The raw sum goes
through a saturating curve, risk = 100·(1 - e^(-raw/RISK_SCALE)), so risk never clips: every
change in a feature (an analyst's verdict in particular) moves the risk, and the ranking.
Feedback is weighted by max(25, FEEDBACK_SHARE x the other features' raw sum), so one verdict on
a pattern moves it about a severity band whether it scored 40 or 90.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jobs.engines.drift.asn import owner_text
from jobs.engines.drift.criticality import node_criticality
from jobs.engines.drift.feedback import FeedbackIndex
from jobs.engines.drift.nodes import NodeView
from jobs.engines.drift.ports import port_sensitivity
from jobs.engines.drift.records import Detection, EventKind, Reason, Severity
from jobs.engines.drift.units import human_bytes, port_text

RISK_SCALE = 70.0
KIND_WEIGHTS: dict[EventKind, float] = {
    "traffic_spike": 25.0,
    "new_external": 25.0,
    "new_port": 25.0,
    "new_edge": 20.0,
    "new_node": 10.0,
    "removed_edge": 5.0,
}
WEIGHTS: dict[str, float] = {
    "port_sensitivity": 30.0,
    "external_peer": 15.0,
    "novelty": 20.0,
    "volume": 30.0,
    "criticality": 20.0,
    "fan_out": 20.0,
    "common_destination": 15.0,
    "routine_outside": 25.0,
    "new_asn": 12.0,
    "feedback": 25.0,
}
FEEDBACK_SHARE = 0.5
SEVERITY_BANDS: tuple[tuple[float, Severity], ...] = (
    (80.0, "critical"), (60.0, "high"), (40.0, "medium"), (20.0, "low")
)
_NOVEL_KINDS = frozenset({"new_edge", "new_port", "new_external"})
_KIND_LABELS: dict[EventKind, str] = {
    "new_edge": "new edge", "new_port": "new port on a known path", "new_external": "new external peer",
    "new_node": "new node", "removed_edge": "stable edge disappeared",
    "traffic_spike": "traffic spike",
}


@dataclass(frozen=True, slots=True)
class ScoreContext:
    """What scoring needs besides the detection: nodes, the tenant's criticality map, feedback."""

    nodes: Mapping[str, NodeView]
    criticality: Mapping[str, float] = field(default_factory=dict)
    feedback: FeedbackIndex = field(default_factory=FeedbackIndex)


@dataclass(frozen=True, slots=True)
class Score:
    risk: float
    severity: Severity
    reasons: tuple[Reason, ...]


def score_detection(detection: Detection, context: ScoreContext) -> Score:
    """Risk, severity and the reasons (largest |contribution| first) of one detection."""
    reasons = [r for feature in _FEATURES if (r := feature(detection, context)) is not None]
    feedback = _feedback(detection, context, sum(r.contribution for r in reasons))
    reasons += [feedback] if feedback is not None else []
    reasons.sort(key=lambda r: (-abs(r.contribution), r.feature))
    raw = sum(r.contribution for r in reasons)
    risk = round(100.0 * (1.0 - math.exp(-max(raw, 0.0) / RISK_SCALE)), 1)
    return Score(risk, severity_of(risk), tuple(reasons))


def severity_of(risk: float) -> Severity:
    """Severity band of a risk: ≥80 critical, ≥60 high, ≥40 medium, ≥20 low, else info."""
    return next((name for floor, name in SEVERITY_BANDS if risk >= floor), "info")


def _reason(feature: str, value: float, evidence: str, weight: float | None = None) -> Reason | None:
    if value == 0:
        return None
    full = WEIGHTS[feature] if weight is None else weight
    return Reason(feature, round(value, 3), full, round(full * value, 2), evidence)


def _kind(d: Detection, _: ScoreContext) -> Reason | None:
    return _reason("kind", 1.0, _KIND_LABELS[d.kind], KIND_WEIGHTS[d.kind])


def _port(d: Detection, _: ScoreContext) -> Reason | None:
    info = port_sensitivity(d.dst_port, d.protocol)
    # a path that stopped or a node has no port of its own to worry about
    if info is None or d.kind in ("new_node", "removed_edge"):
        return None
    evidence = f"port {port_text(d.dst_port, d.protocol)} is {info.service}"
    return _reason("port_sensitivity", info.weight, evidence)


def _external(d: Detection, ctx: ScoreContext) -> Reason | None:
    if d.kind == "new_node":
        return None
    if ctx.nodes[d.dst].external:
        return _reason("external_peer", 1.0, f"{d.dst} is outside the home networks")
    if ctx.nodes[d.src].external:
        return _reason("external_peer", 2 / 3, f"the traffic comes from external {d.src}")
    return None


def _novelty(d: Detection, _: ScoreContext) -> Reason | None:
    facts = d.facts
    held, seen = int(facts.get("baseline_windows", 0)), int(facts.get("windows_seen", 0))
    if d.kind in ("traffic_spike", "removed_edge") or held == 0:
        return None
    maturity = min(1.0, held / max(1, int(facts.get("window_count", held))))
    value = maturity * (1.0 - min(seen, held) / held)
    span = f"the last {held} window" + ("s" if held > 1 else "")
    if d.kind == "new_port":
        known = ", ".join(facts.get("known_ports", ())) or "none"
        return _reason("novelty", value, f"{port_text(d.dst_port, d.protocol)} never used by this pair "
                       f"in {span} (known: {known})")
    evidence = f"never seen in {span}" if seen == 0 else f"pair seen in {seen} of {span}"
    return _reason("novelty", value, evidence)


def _volume(d: Detection, _: ScoreContext) -> Reason | None:
    facts = d.facts
    if d.kind == "traffic_spike":
        return _spike_volume(facts)
    if d.kind == "removed_edge":
        return None
    volume = float(facts.get("bytes", 0))
    # 1 MB scores nothing, 10 GB everything, on a log scale
    value = min(1.0, max(0.0, (math.log10(max(volume, 1.0)) - 6.0) / 4.0))
    return _reason("volume", value, f"{human_bytes(volume)} in this window")


def _spike_volume(facts: Mapping[str, Any]) -> Reason | None:
    z_bytes, z_flows = float(facts["z_bytes"]), float(facts["z_flows"])
    value = min(1.0, math.log1p(max(z_bytes, z_flows)) / math.log1p(100.0))
    if facts.get("spike_on", "bytes" if z_bytes >= z_flows else "flows") == "bytes":
        evidence = (f"{human_bytes(facts['bytes'])} in this window vs a median of "
                    f"{human_bytes(facts['bytes_median'])} (robust z {z_bytes:.1f})")
    else:
        evidence = (f"{facts['flows']} flows in this window vs a median of "
                    f"{facts['flows_median']:g} (robust z {z_flows:.1f})")
    return _reason("volume", value, evidence)


def _criticality(d: Detection, ctx: ScoreContext) -> Reason | None:
    matches = [node_criticality(ctx.nodes[key], ctx.criticality) for key in dict.fromkeys((d.dst, d.src))]
    best = max((m for m in matches if m is not None), default=None)
    return None if best is None else _reason("criticality", best.weight, best.evidence)


def _fan_out(d: Detection, _: ScoreContext) -> Reason | None:
    peers = int(d.facts.get("new_peers", 0))
    if d.kind not in _NOVEL_KINDS or peers < 2:
        return None
    value = min(1.0, (peers - 1) / 4)
    return _reason("fan_out", value, f"{d.src} contacted {peers} peers it never talked to before")


def _common_destination(d: Detection, _: ScoreContext) -> Reason | None:
    sources, known = int(d.facts.get("target_sources", 0)), int(d.facts.get("known_sources", 0))
    # one other client is no pattern; several make this a shared service like DNS
    if d.kind not in _NOVEL_KINDS or sources < 2 or known == 0:
        return None
    target = f"{d.dst}:{port_text(d.dst_port, d.protocol)}"
    return _reason("common_destination", -min(1.0, sources / known),
                   f"{sources} of {known} known sources already reach {target}")


def _routine_outside(d: Detection, _: ScoreContext) -> Reason | None:
    """A host that already reaches many outside peers (a workstation browsing, a server behind CDNs) meets new
    ones every hour: one more is weak evidence. A host with few outside peers keeps the whole score."""
    known = int(d.facts.get("known_outside_peers", 0))
    if d.kind != "new_external" or known < 3:
        return None
    value = -min(1.0, math.log10(known) / 2)
    return _reason("routine_outside", value, f"{d.src} already reaches {known} outside peers")


def _asn_novelty(d: Detection, _: ScoreContext) -> Reason | None:
    """A new peer in an autonomous system the host never reached is a new party (stronger than a new address);
    one more address in an ASN it already reaches is routine (weaker). Needs the peer's stored enrichment."""
    facts = d.facts
    if d.kind != "new_external" or not facts.get("peer_asn") or "asn_known_peers" not in facts:
        return None
    owner = owner_text(facts["peer_asn"], facts.get("peer_org"), facts.get("peer_country"))
    host, known = facts.get("host", d.src), int(facts["asn_known_peers"])
    if known == 0:
        return _reason("new_asn", 1.0, f"first contact with {owner} for {host}")
    return _reason("new_asn", -0.75, f"{host} already reaches {known} peer{'s' if known > 1 else ''} in {owner}")


def _feedback(d: Detection, ctx: ScoreContext, raw: float) -> Reason | None:
    """Verdicts on the same pattern; their weight grows with the rest of the score."""
    match = ctx.feedback.match(d)
    if match.total == 0 or match.net == 0:
        return None
    parts = [f"{n} {what}" for n, what in (
        (match.exact_fp, "identical event(s) marked false positive"),
        (match.exact_tp, "identical event(s) confirmed true positive"),
        (match.coarse_fp, "similar event(s) marked false positive"),
        (match.coarse_tp, "similar event(s) confirmed true positive"),
    ) if n]
    # a verdict must move a high-scoring pattern as visibly as a low-scoring one
    weight = max(WEIGHTS["feedback"], FEEDBACK_SHARE * raw)
    return _reason("feedback", math.tanh(match.net / 1.5), "analysts: " + ", ".join(parts), weight)


_FEATURES: tuple[Callable[[Detection, ScoreContext], Reason | None], ...] = (
    _kind, _port, _external, _novelty, _volume, _criticality, _fan_out,
    _common_destination, _routine_outside, _asn_novelty,
)
