"""Whitelist entries: analysts' standing decisions that some traffic is expected.

An entry matches an event when its `src` and `dst` globs match the event's endpoints (node keys or,
for a CIDR such as `10.0.0.0/8`, an address inside it), its port (if set) equals the event's, its
kind (if set) equals the event's, and it has not expired. Matched events are kept with status
`suppressed`, so the timeline still shows them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from fnmatch import fnmatchcase

from jobs.engines.drift.baseline import aware
from jobs.engines.drift.records import DriftEventRecord, EventKind


@dataclass(frozen=True, slots=True)
class WhitelistEntry:
    """One whitelist row; `expires_at` None means it never expires."""

    src: str = "*"
    dst: str = "*"
    dst_port: int | None = None
    expires_at: datetime | None = None
    reason: str = ""
    kind: EventKind | None = None
    entry_id: str | None = None

    def active(self, now: datetime) -> bool:
        """True until the expiry instant (exclusive)."""
        return self.expires_at is None or aware(now) < aware(self.expires_at)

    def matches(self, event: DriftEventRecord, now: datetime) -> bool:
        """True when this active entry covers the event."""
        if not self.active(now):
            return False
        if self.kind is not None and self.kind != event.kind:
            return False
        if self.dst_port is not None and self.dst_port != event.dst_port:
            return False
        return endpoint_matches(self.src, event.src) and endpoint_matches(self.dst, event.dst)


def endpoint_matches(pattern: str, key: str) -> bool:
    """Glob on the node key; a CIDR pattern also matches an IP key inside it."""
    if fnmatchcase(key, pattern):
        return True
    if "/" not in pattern:
        return False
    try:
        return ipaddress.ip_address(key) in ipaddress.ip_network(pattern, strict=False)
    except ValueError:
        return False


def apply_whitelist(
    events: Iterable[DriftEventRecord], entries: Iterable[WhitelistEntry], *, now: datetime
) -> list[DriftEventRecord]:
    """The events, those covered by an active entry marked `suppressed` with the entry noted."""
    active = [entry for entry in entries if entry.active(now)]
    result: list[DriftEventRecord] = []
    for event in events:
        entry = next((e for e in active if e.matches(event, now)), None)
        if entry is None:
            result.append(event)
            continue
        note = {"entry_id": entry.entry_id, "src": entry.src, "dst": entry.dst,
                "dst_port": entry.dst_port, "reason": entry.reason}
        evidence = {**event.evidence, "whitelist": note}
        result.append(replace(event, status="suppressed", evidence=evidence))
    return result
