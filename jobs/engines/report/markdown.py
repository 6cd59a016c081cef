"""A report as Markdown: summary, top incidents with their explanations, new external peers, policy changes, and
the service graph in words (the picture itself is the PDF's)."""

from __future__ import annotations

from datetime import datetime

from jobs.engines.report.model import SEVERITIES, ReportData, ReportIncident


def _cell(text: object) -> str:
    """Table-cell text: pipes escaped, no line breaks."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _time(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M}"


def _summary(data: ReportData) -> list[str]:
    lines = ["## Summary", "", "| | |", "|---|---|",
             f"| Incidents | {data.incident_total:,} |",
             *(f"| {s.capitalize()} | {data.severity_counts.get(s, 0):,} |" for s in SEVERITIES),
             f"| Drift events | {data.events:,} |", f"| Snapshots | {data.snapshots:,} |",
             f"| New external peers | {data.peer_total:,} |", f"| Policy changes | {len(data.policies):,} |", ""]
    if data.kind_counts:
        kinds = ", ".join(f"{k.replace('_', ' ')} {n:,}" for k, n in sorted(data.kind_counts.items(),
                                                                           key=lambda item: (-item[1], item[0])))
        lines += [f"By kind: {kinds}.", ""]
    return lines


def _incident(rank: int, incident: ReportIncident) -> list[str]:
    title = f"### {rank}. [{incident.severity.upper()}] {incident.kind.replace('_', ' ')} — {_cell(incident.entity)}"
    events = f"{incident.events:,} event" + ("" if incident.events == 1 else "s")
    facts = (f"{incident.direction}, {incident.status}, score {incident.score:.0f}, {events}, "
             f"{_time(incident.first_seen)} – {_time(incident.last_seen)} UTC")
    if incident.namespaces:
        facts += f", namespaces {', '.join(incident.namespaces)}"
    lines = [title, "", facts, "", incident.explanation.strip() or "(no explanation)", ""]
    lines += [f"- {_cell(reason)}" for reason in incident.reasons]
    if incident.reasons:
        lines.append("")
    if incident.url:
        lines += [f"[Open incident {incident.id}]({incident.url})", ""]
    return lines


def render_markdown(data: ReportData) -> str:
    """The whole report as one Markdown document."""
    lines = [f"# SecureGuard report — {_cell(data.tenant)}", "", f"Period: {data.period}  ",
             f"Generated: {_time(data.generated_at)} UTC", ""]
    if data.url:
        lines += [f"[Open on the dashboard]({data.url})", ""]
    lines += _summary(data)
    lines += ["## Top incidents", ""]
    if not data.incidents:
        lines += ["No incidents in this period.", ""]
    for rank, incident in enumerate(data.incidents, start=1):
        lines += _incident(rank, incident)
    lines += ["## Service graph", ""]
    if data.picture is None:
        lines += ["No snapshot in this period.", ""]
    else:
        picture = data.picture
        lines += [f"Snapshot {picture.snapshot_id} ({_time(picture.window_start)} UTC): "
                  f"{picture.total_nodes:,} nodes, {picture.total_edges:,} edges "
                  f"(the PDF draws it; {len(picture.nodes)} points, {len(picture.edges)} lines after grouping).", ""]
    lines += ["## New external peers", ""]
    if not data.peers:
        lines += ["None in this period.", ""]
    else:
        lines += ["| Address | Owner | Country | First seen | Events | From |", "|---|---|---|---|---|---|"]
        for peer in data.peers:
            owner = f"AS{peer.asn} {peer.owner}".strip() if peer.asn else peer.owner
            lines.append(f"| {_cell(peer.address)} | {_cell(owner or 'unknown')} | {_cell(peer.country or '')} | "
                         f"{_time(peer.first_seen)} | {peer.events:,} | {_cell(', '.join(peer.sources))} |")
        if data.peer_total > len(data.peers):
            lines.append(f"\n… and {data.peer_total - len(data.peers):,} more.")
        lines.append("")
    lines += ["## Policy changes", ""]
    if not data.policies:
        lines += ["None in this period.", ""]
    else:
        lines += ["| Policy | Status | When | By |", "|---|---|---|---|"]
        for change in data.policies:
            lines.append(f"| {_cell(change.namespace)}/{_cell(change.name)} (#{change.policy_id}) | {change.status} | "
                         f"{_time(change.at)} | {_cell(change.by)} |")
        lines.append("")
    return "\n".join(lines)
