"""Incidents: findings grouped per entity and kind over time, with one summary an analyst can read.

The entity of a finding decides its incident:
- inbound scans: the home network probed ("4,118 unanswered SYNs from 1,512 internet addresses to
  tcp/23,445,22,3389 of 147.32.81.167 over 24 h"); inbound brute force: the home network and service;
- a home host that scans or guesses passwords: that host (and the service);
- an intrusion or a beacon: its pair (source → destination and service);
- a drift event (`drift_findings`): its kind and source ("shop/cart reached 6 new peers (data/postgres:5432/tcp,
  …) over 3 h"); an outside source's event into the home networks: its kind and home network, as inbound scans;
- a violation (`violation_findings`, monitor mode): the policy that would block it ("checkout → payments:8443 would
  be blocked by sg-payments: no ingress rule admits app=checkout on TCP/8443"; several flows: "sg-payments would
  block 3 flows (…) over 5 h").

A finding joins the open incident of its key when it comes within `quiet_gap_s` of the incident's last
finding; incidents other than beacons also close after `max_span_s`, so their counts read as a day's and a
status or verdict applies to that day. A beacon stays one incident while it lasts.

An incident's risk (`peak_risk`, its severity and the ranking's base) is its strongest finding, settling while the
incident keeps going with weaker ones: it halves every `settle_half_life_s` of flow time since the incident's
previous finding, never below the newest finding's risk. So a workstation's first-hour burst of new peers that
goes on as routine traffic reads as what it does now, while a stronger finding raises the incident at once.
Beacons keep their peak: each beacon finding restates the channel's whole history, and a channel once clearly
regular stays as bad as it was when a later window is noisier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final

from jobs.engines.detect.records import (
    DRIFT_KINDS,
    MONITOR_KINDS,
    Direction,
    Finding,
    Kind,
    Severity,
    count_text,
    human_span,
    ports_text,
    severity_of,
)


@dataclass(frozen=True, slots=True)
class IncidentParams:
    """How findings fold into incidents over time."""

    # a campaign that pauses for less than a day (a scanner's next round, a beacon's server down overnight)
    # is the same campaign
    quiet_gap_s: float = 86_400.0
    # an analyst reads and closes background noise a day at a time; a beacon is exempt (one per pair)
    max_span_s: float = 86_400.0
    # an incident that keeps going with lower findings settles: its risk (`peak_risk`) halves every
    # `settle_half_life_s` of flow time down to its latest finding's, and a stronger finding raises it at once
    settle_half_life_s: float = 21_600.0

    def __post_init__(self) -> None:
        if self.quiet_gap_s <= 0 or self.max_span_s <= 0 or self.settle_half_life_s <= 0:
            raise ValueError("quiet_gap_s, max_span_s and settle_half_life_s must be positive")


@dataclass(frozen=True, slots=True)
class Incident:
    """Findings of one entity and kind over time, kept as running totals (the findings themselves are the
    incident's events: the caller stores them; the incident keeps what its summary and ranking need)."""

    key: str
    kind: Kind
    direction: Direction
    entity: str
    service: str
    first_seen: float
    first_reported: float
    last_seen: float
    peak_risk: float
    events: int
    attempts: int
    answered: int
    sources: frozenset[str]
    hosts: frozenset[str]
    ports: Mapping[str, int]
    actors: Mapping[str, int]
    answered_ports: frozenset[str]
    latest: Finding = field(repr=False)

    @property
    def severity(self) -> Severity:
        return severity_of(self.peak_risk)

    @property
    def id(self) -> str:
        """Stable identity: the key and the start (a key opens a new incident after a quiet gap)."""
        return f"{self.key}@{self.first_seen:.0f}"

    @property
    def summary(self) -> str:
        """One explanation of the whole incident (see the module docstring for its shapes)."""
        writers = {"scan": _scan_summary, "brute_force": _brute_summary}
        if self.kind in DRIFT_KINDS:
            return _drift_summary(self)
        if self.kind in MONITOR_KINDS:
            return _violation_summary(self)
        return writers[self.kind](self) if self.kind in writers else _pair_summary(self)


def incident_key(finding: Finding) -> tuple[str, str]:
    """(entity, service) of the incident a finding belongs to."""
    f = finding
    if f.kind in ("scan", "brute_force"):
        entity = f.target if f.direction == "inbound" else f.actor
        return entity, f.service if f.kind == "brute_force" else ""
    if f.kind in DRIFT_KINDS:
        return (f.target if f.direction == "inbound" else f.actor), ""
    if f.kind in MONITOR_KINDS:
        return f.actor, ""  # the policy that would block the flows
    return f"{f.actor} → {f.target}", f.service


def key_of(finding: Finding) -> str:
    """kind|direction|entity|service: the incident key of a finding."""
    return "|".join((finding.kind, finding.direction, *incident_key(finding)))


def group_incidents(findings: Iterable[Finding], params: IncidentParams | None = None, *,
                    open_incidents: Iterable[Incident] = ()) -> list[Incident]:
    """Incidents of the findings (any order), sorted by first finding. `open_incidents` (from earlier windows)
    are extended by the findings that continue them and returned with the rest, so a window costs its own
    findings, not the incidents' history."""
    params = params or IncidentParams()
    current = {incident.key: incident for incident in open_incidents}
    done: list[Incident] = []
    for finding in sorted(findings, key=lambda f: (f.last_ts, f.first_ts, f.kind, f.actor, f.target)):
        key = key_of(finding)
        incident = current.get(key)
        if incident is not None and _continues(incident, finding, params):
            current[key] = _extended(incident, finding, params)
            continue
        if incident is not None:
            done.append(incident)
        current[key] = _started(key, finding)
    return sorted([*done, *current.values()], key=lambda i: (i.first_seen, i.key))


def _continues(incident: Incident, finding: Finding, params: IncidentParams) -> bool:
    if finding.first_ts - incident.last_seen > params.quiet_gap_s:
        return False
    return finding.kind == "beacon" or finding.last_ts - incident.first_seen <= params.max_span_s


def _tallies(finding: Finding) -> tuple[dict[str, int], dict[str, int]]:
    ranked = list(finding.facts.get("ports_by_count", ()))
    ports = {port: len(ranked) - rank for rank, port in enumerate(ranked)}  # earlier = more attempts
    actors = {str(a["actor"]): int(a["attempts"]) for a in finding.facts.get("top_actors", ())}
    return ports, actors


def _started(key: str, finding: Finding) -> Incident:
    entity, service = incident_key(finding)
    ports, actors = _tallies(finding)
    return Incident(
        key=key, kind=finding.kind, direction=finding.direction, entity=entity, service=service,
        first_seen=finding.first_ts, first_reported=finding.last_ts, last_seen=finding.last_ts,
        peak_risk=finding.risk, events=1, attempts=finding.attempts, answered=finding.answered,
        sources=finding.sources, hosts=finding.hosts, ports=ports, actors=actors,
        answered_ports=frozenset(finding.facts.get("answered_ports", ())), latest=finding)


def settled_risk(incident: Incident, finding: Finding, params: IncidentParams) -> float:
    """The incident's risk once `finding` joins: its risk halved every `settle_half_life_s` since its previous
    finding, or the finding's, whichever is higher (a beacon's: the higher of the two)."""
    if finding.kind == "beacon":
        return max(incident.peak_risk, finding.risk)  # a channel once clearly regular stays as bad as it was
    elapsed = max(0.0, finding.last_ts - incident.last_seen)
    return max(finding.risk, incident.peak_risk * float(0.5 ** (elapsed / params.settle_half_life_s)))


def _extended(incident: Incident, finding: Finding, params: IncidentParams) -> Incident:
    ports, actors = _tallies(finding)
    # a beacon's finding restates its whole history: its latest counts replace, a campaign's add up
    adds = finding.kind != "beacon"
    return replace(
        incident, first_seen=min(incident.first_seen, finding.first_ts),
        last_seen=max(incident.last_seen, finding.last_ts), peak_risk=settled_risk(incident, finding, params),
        events=incident.events + 1, attempts=incident.attempts * adds + finding.attempts,
        answered=incident.answered * adds + finding.answered, sources=incident.sources | finding.sources,
        hosts=incident.hosts | finding.hosts, ports=_add(incident.ports, ports), actors=_add(incident.actors, actors),
        answered_ports=incident.answered_ports | frozenset(finding.facts.get("answered_ports", ())), latest=finding)


def _add(tally: Mapping[str, int], more: Mapping[str, int]) -> dict[str, int]:
    found = dict(tally)
    for name, count in more.items():
        found[name] = found.get(name, 0) + count
    return found


def _ports_by_count(incident: Incident) -> list[str]:
    return [port for port, _ in Counter(incident.ports).most_common()]


def _top_actors(incident: Incident) -> str:
    top = ", ".join(f"{actor} ({count:,})" for actor, count in Counter(incident.actors).most_common(3))
    return f"; heaviest: {top}" if top else ""


def _target_text(incident: Incident) -> str:
    hosts = sorted(incident.hosts)
    return hosts[0] if len(hosts) == 1 else f"{count_text(len(hosts), 'host')} of {incident.entity}"


def _answered_text(incident: Incident, *, none: str) -> str:
    if incident.answered == 0:
        return none
    ports = sorted(incident.answered_ports)
    where = f" on {ports_text(ports, limit=4)}" if ports else ""
    return f"{incident.answered:,} answered{where} ({100 * incident.answered / max(incident.attempts, 1):.1f} %)"


def _scan_summary(i: Incident) -> str:
    span = human_span(i.last_seen - i.first_seen)
    ports = ports_text(_ports_by_count(i), limit=5)
    if i.direction == "inbound":
        tcp_only = all(p.endswith("/tcp") for p in _ports_by_count(i))
        what = ("SYNs" if tcp_only else "connection attempts") if i.answered else (
            "unanswered SYNs" if tcp_only else "unanswered connection attempts")
        origin = count_text(len(i.sources), "internet address", "internet addresses")
        return (f"{i.attempts:,} {what} from {origin} to {ports} of {_target_text(i)} over {span}: inbound "
                f"scanning, {_answered_text(i, none='nothing answered')}{_top_actors(i)}")
    failed = i.attempts - i.answered
    return (f"{i.entity} probed {count_text(len(i.hosts), 'host')} on {ports} with {i.attempts:,} connections "
            f"({100 * failed / max(i.attempts, 1):.0f} % unanswered) over {span}: {i.direction} scanning "
            f"from a home host")


def _brute_summary(i: Incident) -> str:
    span = human_span(i.last_seen - i.first_seen)
    if i.direction == "inbound":
        origin = count_text(len(i.sources), "internet address", "internet addresses")
        return (f"{i.attempts:,} short {i.service} connections from {origin} to {_target_text(i)} over {span}: "
                f"inbound brute force, every connection short{_top_actors(i)}")
    targets = sorted(i.hosts)[0] if len(i.hosts) == 1 else count_text(len(i.hosts), "host")
    return (f"{i.entity} made {i.attempts:,} short {i.service} connections to {targets} over {span}: "
            f"{i.direction} brute force from a home host (lateral movement)")


def _pair_summary(i: Incident) -> str:
    if i.kind != "beacon":
        return i.latest.explanation
    lasting = human_span(i.last_seen - i.first_seen)
    return f"{i.latest.explanation}; regular for {lasting}" if i.events > 1 else i.latest.explanation


# kind → (what the source did to its targets, one target, several)
_DRIFT_WORDS: dict[str, tuple[str, str, str]] = {
    "new_edge": ("reached", "new peer", "new peers"),
    "new_external": ("reached", "new outside peer", "new outside peers"),
    "new_port": ("used", "new port of a known peer", "new ports of known peers"),
    "traffic_spike": ("sent unusual volumes to", "peer", "peers"),
    "removed_edge": ("stopped reaching", "usual peer", "usual peers"),
}
_INBOUND_WORDS: Final = ("reached for the first time", "home endpoint", "home endpoints")


def _drift_summary(i: Incident) -> str:
    """"shop/cart reached 6 new peers (data/kafka:9092/tcp, …, +2 more) over 3 h"."""
    if i.kind == "new_node":
        return i.latest.explanation if i.events == 1 else f"{i.latest.explanation} (reported {i.events} times)"
    inbound_new = i.kind == "new_external" and i.direction == "inbound"
    verb, one, many = _INBOUND_WORDS if inbound_new else _DRIFT_WORDS[i.kind]
    targets = sorted(i.hosts)
    shown = ", ".join(targets[:4]) + (f", +{len(targets) - 4} more" if len(targets) > 4 else "")
    span = human_span(i.last_seen - i.first_seen)
    if i.direction == "inbound":
        origin = count_text(len(i.sources), "internet address", "internet addresses")
        return (f"{origin} {verb} {count_text(len(targets), one, many)} of {i.entity} ({shown}) over {span}: "
                f"inbound, the internet's background unless a service should not answer")
    origin = "" if len(i.sources) <= 1 else f" ({count_text(len(i.sources), 'address', 'addresses')})"
    owner = i.latest.facts.get("outside_owner")
    latest = f"; latest {owner}" if owner and len(targets) > 1 else f"; {owner}" if owner else ""
    return f"{i.entity}{origin} {verb} {count_text(len(targets), one, many)} ({shown}) over {span}{latest}"


def _violation_summary(i: Incident) -> str:
    """One flow: its explanation ("checkout → payments:8443 would be blocked by sg-payments: no ingress rule admits
    app=checkout on TCP/8443"), with the windows it was seen in; several: "sg-payments would block 3 flows
    (shop/checkout → shop/payments:8443/tcp, …) over 5 h; latest: …"."""
    flows = sorted(i.hosts)
    seen = f" (in {i.events} windows over {human_span(i.last_seen - i.first_seen)})" if i.events > 1 else ""
    if len(flows) <= 1:
        return f"{i.latest.explanation}{seen}"
    name = i.entity.split("/", 1)[-1]
    shown = ", ".join(flows[:3]) + (f", +{len(flows) - 3} more" if len(flows) > 3 else "")
    span = human_span(i.last_seen - i.first_seen)
    return (f"{name} would block {count_text(len(flows), 'flow')} ({shown}) over {span}; "
            f"latest: {i.latest.explanation}")
