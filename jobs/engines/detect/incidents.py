"""Incidents: findings grouped per entity and kind over time, with one summary an analyst can read.

The entity of a finding decides its incident:
- inbound scans: the home network probed ("4,118 unanswered SYNs from 1,512 internet addresses to
  tcp/23,445,22,3389 of 147.32.81.167 over 24 h"); inbound brute force: the home network and service;
- a home host that scans or guesses passwords: that host (and the service);
- an intrusion or a beacon: its pair (source → destination and service).

A finding joins the open incident of its key when it comes within `quiet_gap_s` of the incident's last
finding; incidents other than beacons also close after `max_span_s`, so their counts read as a day's and a
status or verdict applies to that day. A beacon stays one incident while it lasts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from jobs.engines.detect.records import (
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

    def __post_init__(self) -> None:
        if self.quiet_gap_s <= 0 or self.max_span_s <= 0:
            raise ValueError("quiet_gap_s and max_span_s must be positive")


@dataclass(frozen=True, slots=True)
class Incident:
    """Findings of one entity and kind over time."""

    key: str
    kind: Kind
    direction: Direction
    entity: str
    service: str
    first_seen: float
    last_seen: float
    peak_risk: float
    attempts: int
    answered: int
    sources: frozenset[str]
    hosts: frozenset[str]
    summary: str
    findings: tuple[Finding, ...] = field(repr=False)

    @property
    def severity(self) -> Severity:
        return severity_of(self.peak_risk)

    @property
    def events(self) -> int:
        return len(self.findings)

    @property
    def id(self) -> str:
        """Stable identity: the key and the start (a key opens a new incident after a quiet gap)."""
        return f"{self.key}@{self.first_seen:.0f}"


def incident_key(finding: Finding) -> tuple[str, str]:
    """(entity, service) of the incident a finding belongs to."""
    f = finding
    if f.kind in ("scan", "brute_force"):
        entity = f.target if f.direction == "inbound" else f.actor
        return entity, f.service if f.kind == "brute_force" else ""
    return f"{f.actor} → {f.target}", f.service


def group_incidents(findings: Iterable[Finding], params: IncidentParams | None = None) -> list[Incident]:
    """Incidents of the findings (any order), sorted by first finding."""
    params = params or IncidentParams()
    open_: dict[str, list[Finding]] = {}
    done: list[list[Finding]] = []
    for finding in sorted(findings, key=lambda f: (f.first_ts, f.last_ts, f.kind, f.actor, f.target)):
        entity, service = incident_key(finding)
        key = "|".join((finding.kind, finding.direction, entity, service))
        current = open_.get(key)
        if current is not None and _continues(current, finding, params):
            current.append(finding)
            continue
        if current is not None:
            done.append(current)
        open_[key] = [finding]
    built = [_incident(group) for group in [*done, *open_.values()]]
    return sorted(built, key=lambda i: (i.first_seen, i.key))


def _continues(current: list[Finding], finding: Finding, params: IncidentParams) -> bool:
    last = max(f.last_ts for f in current)
    if finding.first_ts - last > params.quiet_gap_s:
        return False
    return finding.kind == "beacon" or finding.last_ts - current[0].first_ts <= params.max_span_s


def _incident(group: list[Finding]) -> Incident:
    head = group[0]
    entity, service = incident_key(head)
    first, last = min(f.first_ts for f in group), max(f.last_ts for f in group)
    sources = frozenset().union(*(f.sources for f in group))
    hosts = frozenset().union(*(f.hosts for f in group))
    incident = Incident(
        key="|".join((head.kind, head.direction, entity, service)), kind=head.kind, direction=head.direction,
        entity=entity, service=service, first_seen=first, last_seen=last, peak_risk=max(f.risk for f in group),
        attempts=sum(f.attempts for f in group) if head.kind != "beacon" else group[-1].attempts,
        answered=sum(f.answered for f in group) if head.kind != "beacon" else group[-1].answered,
        sources=sources, hosts=hosts, summary="", findings=tuple(group),
    )
    return _with_summary(incident)


def _with_summary(incident: Incident) -> Incident:
    writers = {"scan": _scan_summary, "brute_force": _brute_summary}
    text = writers[incident.kind](incident) if incident.kind in writers else _pair_summary(incident)
    return replace(incident, summary=text)


def _ports_by_count(incident: Incident) -> list[str]:
    tally: Counter[str] = Counter()
    for finding in incident.findings:
        for rank, port in enumerate(finding.facts.get("ports_by_count", ())):
            tally[port] += len(finding.facts.get("ports_by_count", ())) - rank  # earlier = more attempts
    return [port for port, _ in tally.most_common()]


def _top_actors(incident: Incident) -> str:
    tally: Counter[str] = Counter()
    for finding in incident.findings:
        for entry in finding.facts.get("top_actors", ()):
            tally[entry["actor"]] += int(entry["attempts"])
    top = ", ".join(f"{actor} ({count:,})" for actor, count in tally.most_common(3))
    return f"; heaviest: {top}" if top else ""


def _target_text(incident: Incident) -> str:
    hosts = sorted(incident.hosts)
    return hosts[0] if len(hosts) == 1 else f"{count_text(len(hosts), 'host')} of {incident.entity}"


def _answered_text(incident: Incident, *, none: str) -> str:
    if incident.answered == 0:
        return none
    ports = sorted({p for f in incident.findings for p in f.facts.get("answered_ports", ())})
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
    latest = i.findings[-1]
    if i.kind != "beacon":
        return latest.explanation
    lasting = human_span(i.last_seen - i.first_seen)
    return f"{latest.explanation}; regular for {lasting}" if i.events > 1 else latest.explanation

