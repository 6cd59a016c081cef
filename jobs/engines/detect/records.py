"""Plain records the detection engines exchange: a `Finding` (one detected campaign or beacon in one
window, or one drift event: `drift_findings`) and the words used to describe it.

A finding names its actor (a source address, an outside /24, or `*` for many sources), its target (a
home host or network, a destination, or `*`), the direction of its traffic, the flows behind it
(attempts, answered) and the sets of sources, hosts and ports it covers, so incidents can count
distinct addresses over many findings. `risk` is 0–100; severity follows from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# detection's own kinds, then drift's (`jobs.engines.detect.drift_findings` folds drift events into incidents), then
# monitor mode's (`jobs.engines.detect.violation_findings`: a flow the approved policies would deny)
Kind = Literal["scan", "brute_force", "intrusion", "beacon", "new_edge", "new_external", "new_port", "new_node",
               "traffic_spike", "removed_edge", "violation"]
DRIFT_KINDS: tuple[Kind, ...] = ("new_edge", "new_external", "new_port", "new_node", "traffic_spike", "removed_edge")
MONITOR_KINDS: tuple[Kind, ...] = ("violation",)
Direction = Literal["outbound", "inbound", "internal", "transit"]
Severity = Literal["info", "low", "medium", "high", "critical"]

DIRECTIONS: tuple[Direction, ...] = ("outbound", "inbound", "internal", "transit")
SEVERITY_BANDS: tuple[tuple[float, Severity], ...] = (
    (80.0, "critical"), (60.0, "high"), (40.0, "medium"), (20.0, "low")
)
SEVERITY_ORDER: dict[Severity, int] = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
# one address stands for many: a campaign of many sources, or a sweep of many hosts
MANY = "*"


def as_direction(value: str) -> Direction:
    """`value` as a Direction; ValueError for anything else."""
    for direction in DIRECTIONS:
        if value == direction:
            return direction
    raise ValueError(f"unknown direction {value!r}; expected one of {DIRECTIONS}")


def number(value: object) -> float:
    """A polars scalar (a count, a mean, a minimum) as a float; TypeError for anything else (a null included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def severity_of(risk: float) -> Severity:
    """Severity band of a risk: ≥80 critical, ≥60 high, ≥40 medium, ≥20 low, else info (as drift events)."""
    return next((name for floor, name in SEVERITY_BANDS if risk >= floor), "info")


@dataclass(frozen=True, slots=True)
class Finding:
    """One detection of one window: a scan, a brute force, an intrusion, a beacon, or a drift event (whose
    `hosts` are the endpoints it reached, "data/postgres:5432/tcp", and `facts["event_ref"]` its event)."""

    kind: Kind
    direction: Direction
    actor: str
    target: str
    service: str
    first_ts: float
    last_ts: float
    attempts: int
    answered: int
    risk: float
    sources: frozenset[str] = frozenset()
    hosts: frozenset[str] = frozenset()
    ports: frozenset[str] = frozenset()
    explanation: str = ""
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return severity_of(self.risk)


def port_label(port: int | None, protocol: str) -> str:
    """"22/tcp", or the bare protocol when the port means nothing (icmp)."""
    return protocol if port is None or protocol.startswith("icmp") else f"{port}/{protocol}"


def ports_text(ports: Iterable[str], *, limit: int = 6) -> str:
    """"tcp/23,445,22,3389" (most frequent first as given) or "tcp/23,445 and udp/53"; long lists end with "+N"."""
    by_protocol: dict[str, list[str]] = {}
    shown = 0
    listed = list(ports)
    for label in listed[:limit]:
        number, _, protocol = label.partition("/")
        by_protocol.setdefault(protocol or number, []).append(number if protocol else "")
        shown += 1
    parts = [f"{proto}/{','.join(n for n in numbers if n)}" if any(numbers) else proto
             for proto, numbers in by_protocol.items()]
    extra = f" +{len(listed) - shown} more" if len(listed) > shown else ""
    return " and ".join(parts) + extra


def count_text(count: int, noun: str, plural: str | None = None) -> str:
    """"1 address", "1,512 addresses"."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def human_bytes(count: float) -> str:
    """Decimal byte size: 950 → "950 B", 3_100_000 → "3.1 MB"."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1000:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def human_span(seconds: float) -> str:
    """A period or span as an analyst says it: 292 → "4 m 52 s", 255_600 → "71 h", 42 → "42 s"."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 10:
        return f"{hours + (1 if minutes >= 30 else 0)} h"
    if hours:
        return f"{hours} h {minutes} m" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} m {secs} s" if secs else f"{minutes} m"
    return f"{secs} s"
