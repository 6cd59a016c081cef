"""A report's data for the engine tests: two incidents, a peer, a policy change and a small placed graph."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jobs.engines.report.model import (
    Picture,
    PictureEdge,
    PictureNode,
    PolicyChange,
    ReportData,
    ReportIncident,
    ReportPeer,
)

START = datetime(2026, 12, 4, tzinfo=UTC)
END = START + timedelta(days=1)


def incident(**changes: Any) -> ReportIncident:
    values: dict[str, Any] = {
        "id": 7, "kind": "scan", "severity": "high", "entity": "10.0.0.0/24", "direction": "inbound",
        "status": "open", "score": 81.5, "events": 12, "first_seen": START + timedelta(hours=2),
        "last_seen": START + timedelta(hours=5),
        "explanation": "198.51.100.7 probed 900 ports on 40 home hosts without answer",
        "reasons": ("ports: 22/tcp, 23/tcp", "heaviest actor 198.51.100.0/24 (600 attempts)"),
        "namespaces": ("payments",), "url": "http://sg.test/drift?incident=7",
    }
    return ReportIncident(**(values | changes))


def report(**changes: Any) -> ReportData:
    picture = Picture(
        snapshot_id=3, window_start=START + timedelta(hours=23),
        nodes=(PictureNode("payments/api", "api", "workload", 0.0, 0.0, 1),
               PictureNode("shop/web", "web", "workload", 12.0, 4.0, 1),
               PictureNode("group:AS64500", "AS64500 Example Net", "group", 40.0, -20.0, 25)),
        edges=(PictureEdge("payments/api", "group:AS64500", 40, "drift"), PictureEdge("shop/web", "payments/api", 3)),
        total_nodes=27, total_edges=30,
    )
    values: dict[str, Any] = {
        "tenant": "acme", "start": START, "end": END, "generated_at": END + timedelta(minutes=5),
        "snapshots": 24, "events": 1512, "incident_total": 2,
        "severity_counts": {"high": 1, "medium": 1}, "kind_counts": {"scan": 1, "new_external": 1},
        "incidents": (incident(), incident(id=8, kind="new_external", severity="medium", entity="203.0.113.9",
                                           explanation="payments/api talked to 203.0.113.9:443 for the first time",
                                           score=40.0, reasons=(), namespaces=())),
        "peers": (ReportPeer("203.0.113.9", START + timedelta(hours=3), 4, ("payments/api",), 64500, "Example Net",
                             "NL"),),
        "peer_total": 1,
        "policies": (PolicyChange(5, "payments", "allow-api", "approved", START + timedelta(hours=9), "ann@acme"),),
        "picture": picture, "url": "http://sg.test/reports?from=2026-12-04",
    }
    return ReportData(**(values | changes))
