"""Drift events as findings, so they fold into incidents beside detection's (docs/detection.md, step 7).

    findings_of_drift(events, home=…, window_start=…, window_end=…) -> [Finding]

The kind stays (new_edge, new_external, new_port, new_node, traffic_spike, removed_edge); the actor is the
event's source node, an outside address by its /24 as detection names actors; the direction comes from the home
networks; an inbound event (an outside source into the home networks) targets the home network and is low at
most, as detection folds and rates inbound probes. The finding's `hosts` hold the endpoint reached
("data/postgres:5432/tcp") and its facts the event it came from (`event_ref`: the stored id when there is one,
else the signature), so the job can link events to incidents. `incidents.group_incidents` then makes one
incident per kind and source (inbound: per kind and home network) and day.

What drift must defer to (`jobs.engines.drift.analyze(…, home=, excluded=, exposed=)`) comes from detection's
state: `excluded_until(state.excluded)` and `exposed_keys(exposed_services(frame))`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Protocol

import polars as pl

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.detect.records import DRIFT_KINDS, Direction, Finding, Kind, port_label
from jobs.engines.drift.asn import owner_text
from jobs.engines.drift.defer import ServiceKey, actor_of
from jobs.engines.drift.nodes import is_home

# an actor that scanned or guessed keeps drift quiet for a day after it was last seen doing so
EXCLUSION_S: Final = 86_400.0
# the top of "low": an outside source's drift event into the home networks is rated as detection rates inbound
# campaigns (the internet knocks on every public address all day; what got in is an intrusion, detection's)
INBOUND_MAX_RISK: Final = 39.0


class DriftEventLike(Protocol):
    """What a drift event offers: a `DriftEventRecord`, or a stored `drift_event` row (which also has an id)."""

    @property
    def kind(self) -> str: ...
    @property
    def src(self) -> str: ...
    @property
    def dst(self) -> str: ...
    @property
    def dst_port(self) -> int | None: ...
    @property
    def protocol(self) -> str: ...
    @property
    def risk(self) -> float: ...
    @property
    def explanation(self) -> str: ...
    @property
    def evidence(self) -> Mapping[str, Any]: ...
    @property
    def signature(self) -> str: ...


def findings_of_drift(events: Sequence[DriftEventLike | Mapping[str, Any]], *, home: HomeNetworks,
                      window_start: float, window_end: float) -> list[Finding]:
    """One finding per drift event of one window (epoch seconds). `events` are `DriftEventRecord`s, `drift_event`
    rows, or their column mappings (as `EventChanges.inserted` holds them). ValueError on a kind drift does not
    make (a stored `beacon` row is detection's now) or a window that ends before it starts."""
    if window_end < window_start:
        raise ValueError(f"window_end {window_end} is before window_start {window_start}")
    return [_finding(event, home, window_start, window_end) for event in events]


def _value(event: DriftEventLike | Mapping[str, Any], name: str) -> Any:
    if isinstance(event, Mapping):
        return event.get(name)
    return getattr(event, name, None)


def _drift_kind(value: object) -> Kind:
    for kind in DRIFT_KINDS:
        if value == kind:
            return kind
    raise ValueError(f"{value!r} is not a drift event kind (expected one of {DRIFT_KINDS})")


def direction_of(src: str, dst: str, home: HomeNetworks) -> Direction:
    """outbound, inbound, internal or transit, as detection's frame says it (`home.with_direction`)."""
    src_home, dst_home = is_home(src, home), is_home(dst, home)
    if src_home:
        return "internal" if dst_home else "outbound"
    return "inbound" if dst_home else "transit"


def _finding(event: DriftEventLike | Mapping[str, Any], home: HomeNetworks, start: float, end: float) -> Finding:
    kind = _drift_kind(_value(event, "kind"))
    src, dst = str(_value(event, "src")), str(_value(event, "dst"))
    port, protocol = _value(event, "dst_port"), str(_value(event, "protocol") or "")
    evidence: Mapping[str, Any] = _value(event, "evidence") or {}
    label = port_label(port, protocol) if protocol else ""
    endpoint = f"{dst}:{label}" if label and kind != "new_node" else dst
    flows = int(evidence.get("flows", evidence.get("edges", 0)))
    answered = max(0, flows - int(evidence.get("unanswered", 0)))
    signature = str(_value(event, "signature"))
    stored_id = _value(event, "id")
    risk, direction = float(_value(event, "risk")), direction_of(src, dst, home)
    facts = {"event_ref": signature if stored_id is None else stored_id, "signature": signature,
             "endpoint": endpoint, "ports_by_count": [label] if label else [],
             "bytes": int(evidence.get("bytes", 0)), "event_risk": risk}
    owner = owner_text(evidence.get("peer_asn"), evidence.get("peer_org"), evidence.get("peer_country"))
    if owner:  # the outside end's ASN, organisation and country, stored at ingest (jobs.engines.drift.asn)
        outside = dst if evidence.get("host") == src else src
        facts["outside_owner"] = f"{outside}: {owner}"
    # inbound: the internet's background, folded per home network as detection folds inbound probes
    target = (home.network_of(dst) or dst) if direction == "inbound" else dst
    return Finding(
        kind=kind, direction=direction, actor=src if is_home(src, home) else actor_of(src),
        target=target, service=label, first_ts=start, last_ts=end, attempts=flows, answered=answered,
        risk=min(risk, INBOUND_MAX_RISK) if direction == "inbound" else risk, sources=frozenset({src}),
        hosts=frozenset({endpoint}),
        ports=frozenset({label} if label else ()), explanation=str(_value(event, "explanation") or ""), facts=facts,
    )


def excluded_until(excluded: Mapping[str, float], *, within_s: float = EXCLUSION_S) -> dict[str, float]:
    """Drift's `excluded` from `DetectionState.excluded` (actor → last seen scanning or guessing): actor → until.
    The state's pair entries ("actor→host", a home host's campaign) are left out: they name no outside actor."""
    if within_s <= 0:
        raise ValueError("within_s must be positive")
    return {actor: seen + within_s for actor, seen in excluded.items() if "→" not in actor}


def exposed_keys(services: pl.DataFrame | Iterable[Mapping[str, Any]]) -> set[ServiceKey]:
    """Drift's `exposed` from `home.exposed_services` (a frame, or its rows as kept in the state):
    (host, dst_port, protocol)."""
    rows = services.iter_rows(named=True) if isinstance(services, pl.DataFrame) else services
    return {(str(row["host"]), int(row["dst_port"]), str(row["protocol"])) for row in rows}
