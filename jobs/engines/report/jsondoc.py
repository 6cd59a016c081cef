"""A report as JSON values (`SCHEMA` names the layout; times are ISO 8601 in UTC)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from jobs.engines.report.model import SEVERITIES, ReportData

SCHEMA = "secureguard.report/1"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def render_json(data: ReportData) -> dict[str, Any]:
    """`{"schema", "tenant", "period": {"from", "to"}, "generated_at", "summary": {…}, "incidents": [...],
    "graph": {…} | null, "new_external_peers": [...], "policy_changes": [...], "url"}`."""
    summary = {
        "incidents": data.incident_total,
        "by_severity": {s: data.severity_counts.get(s, 0) for s in SEVERITIES},
        "by_kind": dict(sorted(data.kind_counts.items())),
        "drift_events": data.events,
        "snapshots": data.snapshots,
        "new_external_peers": data.peer_total,
        "policy_changes": len(data.policies),
        "worst_severity": data.worst,
    }
    return {
        "schema": SCHEMA,
        "tenant": data.tenant,
        "period": {"from": data.start.isoformat(), "to": data.end.isoformat()},
        "generated_at": data.generated_at.isoformat(),
        "summary": summary,
        "incidents": [_plain(asdict(i)) for i in data.incidents],
        "graph": None if data.picture is None else _plain(asdict(data.picture)),
        "new_external_peers": [_plain(asdict(p)) for p in data.peers],
        "policy_changes": [_plain(asdict(c)) for c in data.policies],
        "url": data.url,
    }
