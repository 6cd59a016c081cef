"""Incidents: detection's findings and drift's events grouped per entity and kind over time (docs/detection.md).

An incident is stored once per `(tenant_id, key, first_seen)`, the engine's `Incident.id`; the events behind it
are `drift_event` rows linked through `incident_event` (an event belongs to one incident). Analysts' verdicts on
an incident are `incident_feedback` rows, from which the ranking engine's `Feedback` is built. `totals` holds the
engine's running sets and tallies (layout: `models.public.incidents`, built with `incident_totals`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.drift import EVENT_KINDS, EVENT_STATUSES, SEVERITIES
from models.types import json_column, ts_column, utcnow

# An incident takes the statuses of drift events, so its events can follow it one to one.
INCIDENT_STATUSES = EVENT_STATUSES
# Statuses of an incident still being worked on: new findings fold into it.
ACTIVE_STATUSES = ("open", "acknowledged", "suppressed")
# jobs.engines.detect.records.DIRECTIONS (models may not import jobs)
DIRECTIONS = ("outbound", "inbound", "internal", "transit")
MAX_LISTED = 1000  # addresses kept per set in `totals`; the counts stay exact
MAX_TALLY = 200  # ports and actors kept per tally in `totals`, the largest counts


class Incident(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "key", "first_seen", name="uq_incident_key_start"),
        sa.Index("ix_incident_tenant_status_score", "tenant_id", "status", "score"),
        sa.Index("ix_incident_tenant_last_seen", "tenant_id", "last_seen"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    key: str = Field(max_length=700)  # kind|direction|entity|service (jobs.engines.detect.incidents.key_of)
    kind: str = Field(max_length=24)
    direction: str = Field(max_length=16)
    entity: str = Field(max_length=300)
    service: str = Field(default="", max_length=64)
    first_seen: datetime = Field(sa_column=ts_column(nullable=False))
    first_reported: datetime = Field(sa_column=ts_column(nullable=False))
    last_seen: datetime = Field(sa_column=ts_column(nullable=False))
    peak_risk: int = Field(ge=0, le=100)
    severity: str = Field(max_length=16)
    score: float = 0.0  # rank score at fold time (jobs.engines.detect.ranking.rank_incidents)
    rank_note: str = Field(default="", max_length=300)
    status: str = Field(default="open", max_length=16)
    status_by: str = Field(default="", max_length=254)
    status_at: datetime | None = Field(default=None, sa_column=ts_column())
    events: int = Field(default=0, sa_type=sa.BigInteger)
    attempts: int = Field(default=0, sa_type=sa.BigInteger)
    answered: int = Field(default=0, sa_type=sa.BigInteger)
    summary: str = Field(default="", sa_type=sa.Text)
    totals: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    # the namespaces its events' nodes are in (Hubble, Kubernetes; none for Zeek or VPC flows), sorted, for the
    # namespace routing of notifications; set when events are linked (models.queries.incident_store.link_events)
    namespaces: list[str] = Field(default_factory=list, sa_column=json_column(nullable=False))


class IncidentEvent(SQLModel, table=True):
    """An event's incident. The event is the key: it folds once, so a re-run never counts it twice."""

    __tablename__ = "incident_event"
    __table_args__ = (sa.Index("ix_incident_event_tenant_incident", "tenant_id", "incident_id"),)

    # a re-run of detection deletes the findings it no longer makes; their links go with them
    event_id: int = Field(primary_key=True, foreign_key="drift_event.id", ondelete="CASCADE")
    incident_id: int = Field(foreign_key="incident.id", ondelete="CASCADE")
    tenant_id: int = Field(foreign_key="tenant.id")


class IncidentFeedback(SQLModel, table=True):
    """An analyst's verdict on an incident; `key` and `shape` are the incident's when it was given."""

    __tablename__ = "incident_feedback"
    __table_args__ = (sa.Index("ix_incident_feedback_tenant_incident", "tenant_id", "incident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    # a verdict outlives its incident: ranking reads only key, shape, verdict and time
    incident_id: int | None = Field(default=None, foreign_key="incident.id", ondelete="SET NULL")
    verdict: str = Field(max_length=16)
    note: str = Field(default="", max_length=2000)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    actor: str = Field(default="", max_length=254)
    key: str = Field(max_length=700)
    shape: str = Field(max_length=700)  # jobs.engines.detect.ranking.shape_of
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))


def _check(name: str, value: str, allowed: Iterable[str]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown incident {name} {value!r}")


def _fits(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValueError(f"incident {name} is {len(value)} characters long, at most {limit} fit: {value[:80]!r}…")


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """Every column the fold writes (`upsert_incidents`); the status columns stay the analysts'."""

    key: str
    kind: str
    direction: str
    entity: str
    service: str
    first_seen: datetime
    first_reported: datetime
    last_seen: datetime
    peak_risk: int
    severity: str
    score: float
    rank_note: str
    events: int
    attempts: int
    answered: int
    summary: str
    totals: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check("kind", self.kind, EVENT_KINDS)
        _check("direction", self.direction, DIRECTIONS)
        _check("severity", self.severity, SEVERITIES)
        for name, value, limit in (("key", self.key, 700), ("entity", self.entity, 300),
                                   ("service", self.service, 64), ("rank_note", self.rank_note, 300)):
            _fits(name, value, limit)
        if not self.key:
            raise ValueError("an incident needs a key")
        for name in ("first_seen", "first_reported", "last_seen"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"incident {name} must carry its time zone")
        if not self.first_seen <= self.last_seen:
            raise ValueError("an incident's first_seen must not be after its last_seen")
        if isinstance(self.peak_risk, bool) or not isinstance(self.peak_risk, int) or not 0 <= self.peak_risk <= 100:
            raise ValueError(f"peak_risk must be a whole number 0–100, not {self.peak_risk!r}")
        if min(self.events, self.attempts, self.answered) < 0:
            raise ValueError("events, attempts and answered must not be negative")

    def values(self) -> dict[str, Any]:
        """The row's column values (totals as a plain dict)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {"totals": dict(self.totals)}


def _largest(tally: Mapping[str, int]) -> dict[str, int]:
    ranked = sorted(tally.items(), key=lambda item: (-item[1], item[0]))
    return {name: int(count) for name, count in ranked[:MAX_TALLY]}


def incident_totals(
    *, sources: Iterable[str], hosts: Iterable[str], ports: Mapping[str, int], actors: Mapping[str, int],
    answered_ports: Iterable[str], facts: Mapping[str, Any], latest: Mapping[str, Any], shape: str,
) -> dict[str, Any]:
    """`totals` in the stored layout (see `models.public.incidents`): sets sorted and capped with exact counts,
    tallies capped at their largest entries, `facts` and `latest` as given (JSON values), and the incident's
    `shape` (`jobs.engines.detect.ranking.shape_of`), which a verdict given later is filed under."""
    source_list, host_list = sorted(set(sources)), sorted(set(hosts))
    _fits("shape", shape, 700)
    return {
        "sources": source_list[:MAX_LISTED], "source_count": len(source_list),
        "hosts": host_list[:MAX_LISTED], "host_count": len(host_list),
        "ports": _largest(ports), "actors": _largest(actors), "answered_ports": sorted(set(answered_ports)),
        "facts": dict(facts), "latest": dict(latest), "shape": shape,
    }
