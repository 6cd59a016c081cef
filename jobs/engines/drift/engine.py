"""The drift engine's entry point: detect → score → explain → whitelist → rank."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.drift.asn import EnrichLookup, owner_text, with_owners
from jobs.engines.drift.baseline import Baseline
from jobs.engines.drift.criticality import validate_criticality
from jobs.engines.drift.defer import Deferral, ServiceKey
from jobs.engines.drift.detect import DetectParams, detect_with_context
from jobs.engines.drift.explain import explain
from jobs.engines.drift.feedback import FeedbackIndex
from jobs.engines.drift.known import known_index
from jobs.engines.drift.records import EVENT_KINDS, Detection, DriftEventRecord, Snapshot, Verdict
from jobs.engines.drift.score import ScoreContext, score_detection
from jobs.engines.drift.whitelist import WhitelistEntry, apply_whitelist


def analyze(
    current: Snapshot,
    previous: Snapshot | None,
    baseline: Baseline,
    *,
    feedback: Iterable[Verdict] = (),
    whitelist: Iterable[WhitelistEntry] = (),
    criticality: Mapping[str, float] | None = None,
    now: datetime,
    params: DetectParams | None = None,
    home: HomeNetworks | None = None,
    excluded: Mapping[str, float] | None = None,
    exposed: AbstractSet[ServiceKey] = frozenset(),
    enrich: EnrichLookup | None = None,
) -> list[DriftEventRecord]:
    """Scored, explained drift events of `current`, highest risk first.

    `baseline` summarises windows before `current` (it may or may not include `previous`);
    `now` decides whitelist expiry. Ties are broken by kind, src, dst, port, protocol, so the
    same inputs always give the same list.

    What detection covers keeps drift quiet (`jobs.engines.drift.defer`): `home` (the tenant's home
    networks: a home address is never external; None = judge addresses alone), `excluded` (outside actor,
    an IPv4 address by its /24 → until when it counts as a scanner or guesser, epoch seconds; see
    `jobs.engines.detect.drift_findings.excluded_until`) and `exposed` ((home host, port, protocol) many
    outside sources reach; see `jobs.engines.detect.drift_findings.exposed_keys`). ICMP edges never raise
    events, whatever is passed.
    """
    criticality = dict(criticality or {})
    validate_criticality(criticality)
    deferral = Deferral(home=home, excluded=dict(excluded or {}), exposed=frozenset(exposed))
    detections, known, nodes = detect_with_context(current, previous, baseline, params, deferral)
    if not detections:
        return []
    detections = with_owners(detections, known_index(known, home), nodes, enrich)
    context = ScoreContext(
        nodes=nodes,
        criticality=criticality,
        feedback=FeedbackIndex.of(feedback),
    )
    events = [_event(detection, context) for detection in detections]
    return sorted(apply_whitelist(events, whitelist, now=now), key=rank_key)


def rank_key(event: DriftEventRecord) -> tuple[float, int, str, str, int, str]:
    """Sort key: highest risk first, then a fixed kind order and the edge key."""
    port = -1 if event.dst_port is None else event.dst_port
    return (-event.risk, EVENT_KINDS.index(event.kind), event.src, event.dst, port, event.protocol)


def _event(detection: Detection, context: ScoreContext) -> DriftEventRecord:
    d = detection
    scored = score_detection(d, context)
    return DriftEventRecord(
        kind=d.kind,
        src=d.src,
        dst=d.dst,
        dst_port=d.dst_port,
        protocol=d.protocol,
        risk=scored.risk,
        severity=scored.severity,
        reasons=scored.reasons,
        explanation=explain(d.kind, d.src, d.dst, d.dst_port, d.protocol, scored.reasons, owner=_owner(d)),
        evidence=dict(d.facts),
    )


def _owner(d: Detection) -> str | None:
    """"203.0.113.9 is AS14061 DigitalOcean (NL)" when the event's outside end has stored enrichment."""
    facts = d.facts
    text = owner_text(facts.get("peer_asn"), facts.get("peer_org"), facts.get("peer_country"))
    if not text:
        return None
    outside = d.dst if facts.get("host") == d.src else d.src
    return f"{outside} is {text}"
