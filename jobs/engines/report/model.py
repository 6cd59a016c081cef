"""The plain facts of a report: one tenant, one period [start, end)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

SEVERITIES = ("critical", "high", "medium", "low", "info")  # models.drift.SEVERITIES (engines may not import models)
FORMATS = ("md", "json", "pdf")


@dataclass(frozen=True, slots=True)
class ReportIncident:
    """One incident of the period, as the report lists it."""

    id: int
    kind: str
    severity: str
    entity: str
    direction: str
    status: str
    score: float
    events: int
    first_seen: datetime
    last_seen: datetime
    explanation: str
    reasons: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    url: str = ""


@dataclass(frozen=True, slots=True)
class ReportPeer:
    """An outside address first contacted in the period, with its owner when enrichment knows it."""

    address: str
    first_seen: datetime
    events: int
    sources: tuple[str, ...] = ()
    asn: int | None = None
    owner: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """A policy version created, reviewed or released in the period."""

    policy_id: int
    namespace: str
    name: str
    status: str
    at: datetime
    by: str = ""


@dataclass(frozen=True, slots=True)
class PictureNode:
    key: str
    label: str
    kind: str  # workload | home | external | group
    x: float
    y: float
    count: int = 1


@dataclass(frozen=True, slots=True)
class PictureEdge:
    src: str
    dst: str
    flows: int = 0
    style: str = "normal"  # normal | drift


@dataclass(frozen=True, slots=True)
class Picture:
    """The service graph of the period's newest snapshot, placed by the graph engine (grouped when large)."""

    snapshot_id: int
    window_start: datetime
    nodes: tuple[PictureNode, ...]
    edges: tuple[PictureEdge, ...]
    total_nodes: int = 0
    total_edges: int = 0


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything a report says; `severity_counts` and `kind_counts` cover every incident of the period, while
    `incidents` holds the top ones (highest score first)."""

    tenant: str
    start: datetime
    end: datetime
    generated_at: datetime
    snapshots: int = 0
    events: int = 0
    incident_total: int = 0
    severity_counts: dict[str, int] = field(default_factory=dict)
    kind_counts: dict[str, int] = field(default_factory=dict)
    incidents: tuple[ReportIncident, ...] = ()
    peers: tuple[ReportPeer, ...] = ()
    peer_total: int = 0
    policies: tuple[PolicyChange, ...] = ()
    picture: Picture | None = None
    url: str = ""  # the Reports page for this period

    def __post_init__(self) -> None:
        for name in ("start", "end", "generated_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"report {name} must carry its time zone")
        if not self.start < self.end:
            raise ValueError("a report's start must be before its end")

    @property
    def period(self) -> str:
        """`2026-12-04 00:00 – 2026-12-05 00:00 UTC`."""
        return f"{self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M} UTC"

    @property
    def worst(self) -> str:
        """The highest severity among the period's incidents ('info' when there are none)."""
        return next((s for s in SEVERITIES if self.severity_counts.get(s)), "info")


def summary_lines(data: ReportData) -> list[str]:
    """The few lines a digest message carries: counts, the worst incidents, peers and policy changes."""
    by_severity = ", ".join(f"{data.severity_counts[s]} {s}" for s in SEVERITIES if data.severity_counts.get(s))
    lines = [f"{data.incident_total} incidents" + (f" ({by_severity})" if by_severity else "")
             + f", {data.events:,} drift events in {data.snapshots} snapshots."]
    for incident in data.incidents[:3]:
        lines.append(f"[{incident.severity.upper()}] {incident.kind.replace('_', ' ')} — {incident.entity}: "
                     f"{incident.explanation[:200]}")
    lines.append(f"{data.peer_total} new external peers; {len(data.policies)} policy changes.")
    return lines
