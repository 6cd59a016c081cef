"""The facts of an incident that every notification format reads, built by the caller from the stored incident."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

SEVERITIES = ("critical", "high", "medium", "low", "info")  # models.drift.SEVERITIES (engines may not import models)
SEVERITY_RANK = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}  # info 0 … critical 4
NOTICE_KINDS = ("new", "update", "digest", "test", "report")


@dataclass(frozen=True, slots=True)
class Notice:
    """One incident as a receiver is told about it; `kind` says whether it is new or an update."""

    incident_id: int
    kind: str  # new | update | test | report (a scheduled report's digest: `entity` is its headline)
    incident_kind: str  # scan, beacon, new_peer, …
    severity: str
    direction: str
    entity: str
    summary: str
    status: str
    first_seen: datetime
    last_seen: datetime
    updated_at: datetime
    events: int = 0
    service: str = ""
    namespace: str = ""  # the namespaces joined for display ("payments, shop")
    namespaces: tuple[str, ...] = ()  # what routing reads; empty for sources without namespaces (Zeek, VPC)
    explanation: str = ""
    reasons: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()  # "443/tcp", largest first
    url: str = ""  # link back to the incident on the dashboard
    tenant: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"unknown severity {self.severity!r}; one of {', '.join(SEVERITIES)}")
        if self.kind not in NOTICE_KINDS:
            raise ValueError(f"unknown notice kind {self.kind!r}; one of {', '.join(NOTICE_KINDS)}")
        for name in ("first_seen", "last_seen", "updated_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"notice {name} must carry its time zone")

    @property
    def spaces(self) -> frozenset[str]:
        """The notice's namespaces (`namespaces`, else the single `namespace` a caller gave)."""
        return frozenset(self.namespaces) if self.namespaces else frozenset({self.namespace} - {""})

    @property
    def title(self) -> str:
        """A one-line headline: severity, kind and entity."""
        if self.kind == "report":
            return self.entity
        verb = "Update: " if self.kind == "update" else ""
        return f"{verb}[{self.severity.upper()}] {self.incident_kind.replace('_', ' ')} — {self.entity}"


def incident_url(base_url: str, incident_id: int) -> str:
    """The dashboard link to an incident (the Drift page opens it)."""
    return f"{base_url.rstrip('/')}/drift?incident={incident_id}"
