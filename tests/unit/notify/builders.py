"""Plain builders of notices for the notification engines' tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobs.engines.notify.notice import Notice

T0 = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


def notice(**changes: Any) -> Notice:
    """A scan incident against a home host; any field can be changed."""
    values: dict[str, Any] = {
        "incident_id": 42,
        "kind": "new",
        "incident_kind": "scan",
        "severity": "high",
        "direction": "inbound",
        "entity": "198.51.100.0/24",
        "summary": "198.51.100.0/24 scanned 147 hosts on 23/tcp",
        "status": "open",
        "first_seen": T0,
        "last_seen": T0.replace(minute=5),
        "updated_at": T0.replace(minute=6),
        "events": 1512,
        "service": "telnet",
        "namespace": "payments",
        "explanation": "1,512 sources probed 147 home hosts; none answered",
        "reasons": ("147 hosts in 5 minutes", "no host answered", "known scanner ASN", "fourth reason"),
        "sources": ("198.51.100.7",),
        "hosts": ("10.0.0.5",),
        "ports": ("23/tcp", "2323/tcp"),
        "url": "https://sg.example.com/drift?incident=42",
    }
    return Notice(**(values | changes))
