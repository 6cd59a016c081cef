"""Incidents as answers, pages and live events show them.

`Incident.totals` (JSON) holds the fold's running sets and tallies; `models.incidents.incident_totals` writes it:

    {
      "sources": ["198.51.100.7", …],      # source addresses, sorted, the first 1,000 kept
      "source_count": 1512,                 # how many distinct sources in all
      "hosts": ["10.0.0.5", …],            # targeted home hosts, sorted, the first 1,000 kept
      "host_count": 147,
      "ports": {"23/tcp": 12, …},           # port label → weight (more attempts = larger), the 200 largest
      "actors": {"198.51.100.0/24": 4118},  # actor → attempts, the 200 largest
      "answered_ports": ["22/tcp"],         # ports some target answered on
      "facts": {"period_s": 300.0, …},      # the latest finding's statistics behind its score
      "latest": {"actor": …, "target": …, "first_ts": …, "last_ts": …, "attempts": …, "answered": …, "risk": …,
                 "explanation": …},         # the latest finding's own fields (epoch seconds)
      "shape": "beacon|outbound|443/tcp|203.0.113.0/24"  # jobs.engines.detect.ranking.shape_of at fold time
    }

Any key may be missing (an incident folded from drift events has no actors, say): the public model reads each
with a neutral default. Counts fall back to the listed sets' lengths.

`IncidentDetailPublic.outside` names the owners (ASN, organisation, country) of the incident's outside addresses
that ingest enriched (`incident_addresses` says which addresses are asked for; the caller reads the tenant's
enrichment store); `attribution` is the data's licence text, to show with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from models.drift import DriftEvent
from models.incidents import Incident
from models.public.base import IsoTime, PublicModel
from models.public.drift import DriftEventPublic

TOP_PORTS = 12
TOP_ACTORS = 5
MAX_OWNED = 200  # addresses of one incident whose owners are looked up (sources first, then hosts and events)


class ActorPublic(PublicModel):
    """One of an incident's heaviest actors and its attempts."""

    actor: str
    attempts: int


def _count(totals: Mapping[str, Any], count_key: str, list_key: str) -> int:
    listed = totals.get(list_key)
    count = totals.get(count_key)
    return int(count) if isinstance(count, int) else len(listed) if isinstance(listed, list) else 0


def _largest(tally: Any, top: int) -> list[tuple[str, int]]:
    if not isinstance(tally, Mapping):
        return []
    ranked = sorted(((str(k), int(v)) for k, v in tally.items()), key=lambda item: (-item[1], item[0]))
    return ranked[:top]


class IncidentPublic(PublicModel):
    """An incident (docs/detection.md, "REST"): what it is, how bad, its status, its counts and summary."""

    id: int
    key: str
    kind: str
    direction: str
    entity: str
    service: str
    severity: str
    peak_risk: int
    score: float
    rank_note: str
    status: str
    status_by: str
    status_at: IsoTime | None
    first_seen: IsoTime
    first_reported: IsoTime
    last_seen: IsoTime
    events: int
    attempts: int
    answered: int
    sources: int
    hosts: int
    ports: list[str]
    top_actors: list[ActorPublic]
    summary: str
    facts: dict[str, Any]

    @classmethod
    def of(cls, row: Incident) -> IncidentPublic:
        """The public view of a stored incident (`totals` read as the module docstring lays it out)."""
        totals = row.totals if isinstance(row.totals, Mapping) else {}
        facts = totals.get("facts")
        return cls(
            id=row.id or 0, key=row.key, kind=row.kind, direction=row.direction, entity=row.entity,
            service=row.service, severity=row.severity, peak_risk=row.peak_risk, score=row.score,
            rank_note=row.rank_note, status=row.status, status_by=row.status_by, status_at=row.status_at,
            first_seen=row.first_seen, first_reported=row.first_reported, last_seen=row.last_seen,
            events=row.events, attempts=row.attempts, answered=row.answered,
            sources=_count(totals, "source_count", "sources"), hosts=_count(totals, "host_count", "hosts"),
            ports=[label for label, _ in _largest(totals.get("ports"), TOP_PORTS)],
            top_actors=[ActorPublic(actor=a, attempts=n) for a, n in _largest(totals.get("actors"), TOP_ACTORS)],
            summary=row.summary, facts=dict(facts) if isinstance(facts, Mapping) else {},
        )


class OwnerPublic(PublicModel):
    """Who holds an outside address, from the offline tables looked up at ingest."""

    address: str
    asn: int | None
    as_org: str | None
    country: str | None


def _address_of(endpoint: str) -> str:
    """"10.0.0.5:443/tcp" → "10.0.0.5" (a listed host is an endpoint when it names a port); else as it is."""
    return endpoint.rsplit(":", 1)[0].strip("[]") if "/" in endpoint and ":" in endpoint else endpoint


def incident_addresses(row: Incident, events: Sequence[DriftEvent] = ()) -> list[str]:
    """The addresses an incident names (its entity, listed sources and hosts, its events' ends), at most
    MAX_OWNED, in that order: the ones whose owners its detail shows."""
    totals = row.totals if isinstance(row.totals, Mapping) else {}
    named: list[str] = [row.entity]
    for key in ("sources", "hosts"):
        listed = totals.get(key)
        # a host is listed as an endpoint, "10.0.0.5:443/tcp" or "[2001:db8::1]:443/tcp"
        named += [_address_of(str(item)) for item in (listed if isinstance(listed, list) else [])]
    for event in events:
        named += [event.src, event.dst]
    return list(dict.fromkeys(named))[:MAX_OWNED]


class IncidentDetailPublic(IncidentPublic):
    """An incident with its riskiest events (`top_events`, at most 100) and how many events it links
    (`linked_events`); the rest are at `GET /drift-events?incident_id=`. `outside`: the owners of its outside
    addresses known from ingest's enrichment, with the data's `attribution` (and `attribution_link`)."""

    top_events: list[DriftEventPublic]
    linked_events: int
    outside: list[OwnerPublic] = []
    attribution: str = ""
    attribution_link: str = ""

    @classmethod
    def with_events(
        cls, row: Incident, events: Sequence[DriftEvent], linked: int,
        owners: Mapping[str, tuple[int | None, str | None, str | None]] | None = None,
        attribution: tuple[str, str] = ("", ""),
    ) -> IncidentDetailPublic:
        """The incident `row` with its riskiest `events`, the number of events it links and the `owners`
        (address → asn, as_org, country) of its addresses, shown with `attribution` (text, link)."""
        base = IncidentPublic.of(row)
        outside = [OwnerPublic(address=address, asn=asn, as_org=org, country=country)
                   for address, (asn, org, country) in sorted((owners or {}).items())]
        return cls(**{name: getattr(base, name) for name in IncidentPublic.model_fields},
                   top_events=[DriftEventPublic.of(e) for e in events], linked_events=linked, outside=outside,
                   attribution=attribution[0] if outside else "", attribution_link=attribution[1] if outside else "")
