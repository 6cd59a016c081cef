"""Notices from stored incidents (what every format reads), and the test notice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobs.engines.notify.notice import Notice, incident_url
from models.incidents import Incident

TOP = 3


def reasons_of(incident: Incident) -> tuple[str, ...]:
    """The top reasons an incident is told with: its rank note, ports, heaviest actor, sources and hosts."""
    totals: dict[str, Any] = incident.totals or {}
    reasons: list[str] = [incident.rank_note] if incident.rank_note else []
    ports = list(totals.get("ports") or {})[:TOP]
    if ports:
        reasons.append(f"ports: {', '.join(ports)}")
    actors = totals.get("actors") or {}
    if actors:
        actor, attempts = max(actors.items(), key=lambda item: item[1])
        reasons.append(f"heaviest actor {actor} ({attempts:,} attempts)")
    sources, hosts = totals.get("source_count"), totals.get("host_count")
    if isinstance(sources, int) and isinstance(hosts, int) and (sources or hosts):
        reasons.append(f"{sources:,} sources, {hosts:,} home hosts")
    return tuple(reasons)


def notice_of(incident: Incident, *, kind: str, base_url: str) -> Notice:
    """The incident as a notice of `kind` (new or update), linking back to the dashboard."""
    totals: dict[str, Any] = incident.totals or {}
    latest = totals.get("latest") or {}
    facts = totals.get("facts") or {}
    return Notice(
        incident_id=int(incident.id or 0),
        kind=kind,
        incident_kind=incident.kind,
        severity=incident.severity,
        direction=incident.direction,
        entity=incident.entity,
        summary=incident.summary,
        status=incident.status,
        first_seen=incident.first_seen,
        last_seen=incident.last_seen,
        updated_at=incident.updated_at,
        events=incident.events,
        service=incident.service,
        namespace=", ".join(incident.namespaces or ()) or str(facts.get("namespace") or ""),
        namespaces=tuple(incident.namespaces or ()),
        explanation=str(latest.get("explanation") or incident.summary),
        reasons=reasons_of(incident),
        sources=tuple(totals.get("sources") or ())[:TOP],
        hosts=tuple(totals.get("hosts") or ())[:TOP],
        ports=tuple(totals.get("ports") or ())[:TOP],
        url=incident_url(base_url, int(incident.id or 0)),
    )


def sample_notice(*, name: str, now: datetime, base_url: str) -> Notice:
    """What the Test button sends: plainly a test, about no incident."""
    return Notice(
        incident_id=0,
        kind="test",
        incident_kind="test",
        severity="info",
        direction="internal",
        entity=f"integration {name}",
        summary=f"Test message from SecureGuard to {name!r}",
        status="test",
        first_seen=now,
        last_seen=now,
        updated_at=now,
        explanation=f"This is a test of the integration {name!r}. If you read it, notifications arrive.",
        url=base_url.rstrip("/") + "/integrations",
    )


def report_payload(*, title: str, lines: list[str], url: str, severity: str, incidents: int, period_key: str,
                   start: datetime, end: datetime) -> dict[str, Any]:
    """What a scheduled report delivery stores (`NotificationDelivery.payload`) for `report_notice` to read."""
    return {"title": title, "lines": lines, "url": url, "severity": severity, "incidents": incidents,
            "period_key": period_key, "from": start.isoformat(), "to": end.isoformat()}


def report_notice(payload: dict[str, Any], *, now: datetime) -> Notice:
    """A scheduled report's digest as a notice: its title the headline, its summary lines the explanation, the
    Reports page the link; Jira files it under a label of its own period, never an incident's."""
    start, end = datetime.fromisoformat(payload["from"]), datetime.fromisoformat(payload["to"])
    text = "\n".join(str(line) for line in payload.get("lines") or ())
    key = str(payload.get("period_key") or "")
    return Notice(
        incident_id=0,
        kind="report",
        incident_kind="report",
        severity=str(payload.get("severity") or "info"),
        direction="internal",
        entity=str(payload.get("title") or "SecureGuard report"),
        summary=text,
        status="report",
        first_seen=start,
        last_seen=end,
        updated_at=now,
        events=int(payload.get("incidents") or 0),
        explanation=text,
        url=str(payload.get("url") or ""),
        extra={"label": "secureguard-report-" + "".join(c if c.isalnum() else "-" for c in key)},
    )
