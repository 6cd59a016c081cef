"""Plain records of the drift engine: snapshots in, detections and scored events out.

A `Detection` is what `detect` finds (kind, edge key, facts); a `DriftEventRecord` is the scored,
explained and whitelisted event that the job layer persists. A `Verdict` is an analyst's
true/false-positive decision about a past event, fed back into scoring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

# no "beacon": periodic connections are detection's (`jobs.engines.detect`); stored rows of that kind stay
# readable (`models.drift.EVENT_KINDS`), the engine just no longer makes them
EventKind = Literal["new_edge", "removed_edge", "new_port", "new_external", "new_node", "traffic_spike"]
Severity = Literal["info", "low", "medium", "high", "critical"]
EventStatus = Literal["open", "suppressed"]
VerdictKind = Literal["true_positive", "false_positive"]

EVENT_KINDS: tuple[EventKind, ...] = (
    "traffic_spike", "new_external", "new_port", "new_edge", "new_node", "removed_edge"
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One window of the service graph, as the drift engine reads it."""

    window_start: datetime
    window_end: datetime
    nodes: tuple[NodeRecord, ...] = ()
    edges: tuple[EdgeRecord, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.nodes and not self.edges


@dataclass(frozen=True, slots=True)
class Detection:
    """A raw drift finding before scoring; `facts` holds the measured evidence (JSON-safe)."""

    kind: EventKind
    src: str
    dst: str
    dst_port: int | None
    protocol: str
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reason:
    """One named feature's share of an event's risk.

    `value` is the feature's strength (0..1, negative for feedback that lowers risk), `weight` the
    points it can add at full strength, `contribution` = weight x value in raw points.
    """

    feature: str
    value: float
    weight: float
    contribution: float
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DriftEventRecord:
    """A scored drift event ready to persist (`drift_event` row) and publish."""

    kind: EventKind
    src: str
    dst: str
    dst_port: int | None
    protocol: str
    risk: float
    severity: Severity
    reasons: tuple[Reason, ...]
    explanation: str
    status: EventStatus = "open"
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def signature(self) -> str:
        return event_signature(self.kind, self.src, self.dst, self.dst_port, self.protocol)

    @property
    def coarse_signature(self) -> str:
        return coarse_signature(self.kind, self.dst, self.dst_port)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: the columns of a `drift_event` row plus both signatures."""
        return {
            "kind": self.kind,
            "src": self.src,
            "dst": self.dst,
            "dst_port": self.dst_port,
            "protocol": self.protocol,
            "risk": self.risk,
            "severity": self.severity,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "explanation": self.explanation,
            "status": self.status,
            "evidence": dict(self.evidence),
            "signature": self.signature,
            "coarse_signature": self.coarse_signature,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """An analyst's decision on a past event, identified by that event's edge key."""

    kind: EventKind
    src: str
    dst: str
    dst_port: int | None
    protocol: str
    verdict: VerdictKind

    @classmethod
    def of(cls, event: DriftEventRecord, verdict: VerdictKind) -> Verdict:
        """The verdict an analyst gave on `event`."""
        return cls(event.kind, event.src, event.dst, event.dst_port, event.protocol, verdict)

    @property
    def signature(self) -> str:
        return event_signature(self.kind, self.src, self.dst, self.dst_port, self.protocol)

    @property
    def coarse_signature(self) -> str:
        return coarse_signature(self.kind, self.dst, self.dst_port)


def event_signature(kind: str, src: str, dst: str, dst_port: int | None, protocol: str) -> str:
    """The exact pattern of an event: `kind|src|dst|port|protocol` (port `*` when absent)."""
    return "|".join((kind, src, dst, _port_text(dst_port), protocol))


def coarse_signature(kind: str, dst: str, dst_port: int | None) -> str:
    """The fallback pattern `kind|dst|port`: the same target reached from any source."""
    return "|".join((kind, dst, _port_text(dst_port)))


def _port_text(dst_port: int | None) -> str:
    return "*" if dst_port is None else str(dst_port)
