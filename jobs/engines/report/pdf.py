"""A report as PDF, with ReportLab (pure Python, from PyPI; no system libraries or font files: the text is set in
the PDF's standard Helvetica, so characters outside Windows-1252 become '?').

The service-graph picture is vector drawing with ReportLab's own shapes (lines and circles at the positions the
graph engine's layout gave, scaled into the page), not a raster export: plotly's image export needs kaleido and a
Chrome of its own, which cannot be fetched on these machines.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from jobs.engines.report.model import SEVERITIES, Picture, ReportData, ReportIncident

PICTURE_W, PICTURE_H = 170 * mm, 110 * mm
LABELLED = 40  # points labelled in the picture: the biggest ones
KIND_COLOUR = {"workload": "#1A73E8", "home": "#188038", "external": "#E8710A", "group": "#80868B"}
SEVERITY_COLOUR = {"critical": "#B3261E", "high": "#E8710A", "medium": "#C49A00", "low": "#1A73E8", "info": "#80868B"}


def _text(value: object) -> str:
    """Paragraph-safe text in the standard fonts' encoding."""
    return escape(str(value).encode("cp1252", errors="replace").decode("cp1252"))


def _styles() -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    return {"title": sheet["Title"], "h2": sheet["Heading2"], "h3": sheet["Heading4"], "body": sheet["BodyText"],
            "small": ParagraphStyle("small", parent=sheet["BodyText"], fontSize=8, leading=10)}


def _table(rows: list[list[object]], widths: list[float], *, header: bool = True) -> Table:
    style = _styles()["small"]
    table = Table([[Paragraph(_text(cell), style) for cell in row] for row in rows], colWidths=widths, repeatRows=1)
    commands: list[tuple[object, ...]] = [("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                                          ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEF1F5")))
    table.setStyle(TableStyle(commands))
    return table


def picture_drawing(picture: Picture, width: float = PICTURE_W, height: float = PICTURE_H) -> Drawing:
    """The placed graph scaled into `width` × `height`: edges as lines (drift in red), nodes as circles sized by
    how many they stand for, the biggest labelled."""
    drawing = Drawing(width, height)
    drawing.add(Rect(0, 0, width, height, strokeColor=colors.lightgrey, fillColor=None, strokeWidth=0.5))
    if not picture.nodes:
        drawing.add(String(width / 2, height / 2, "empty graph", textAnchor="middle", fontSize=9))
        return drawing
    xs, ys = [n.x for n in picture.nodes], [n.y for n in picture.nodes]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    pad = 14.0
    scale = min((width - 2 * pad) / span, (height - 2 * pad) / span)
    x0, y0 = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    at = {n.key: (width / 2 + (n.x - x0) * scale, height / 2 + (n.y - y0) * scale) for n in picture.nodes}
    for edge in picture.edges:
        if edge.src in at and edge.dst in at:
            drift = edge.style != "normal"
            drawing.add(Line(*at[edge.src], *at[edge.dst], strokeWidth=1.0 if drift else 0.3,
                             strokeColor=colors.HexColor("#B3261E") if drift else colors.HexColor("#9AA0A6")))
    biggest = sorted(picture.nodes, key=lambda n: (-n.count, n.label))[:LABELLED]
    for node in picture.nodes:
        x, y = at[node.key]
        radius = min(2.0 + node.count ** 0.5, 9.0)
        fill = colors.HexColor(KIND_COLOUR.get(node.kind, KIND_COLOUR["group"]))
        drawing.add(Circle(x, y, radius, fillColor=fill, strokeColor=colors.white, strokeWidth=0.3))
    for node in biggest:
        x, y = at[node.key]
        drawing.add(String(x + 4, y + 3, node.label[:30].encode("cp1252", errors="replace").decode("cp1252"),
                           fontSize=5.5, fillColor=colors.HexColor("#202124")))
    return drawing


def _incident(rank: int, incident: ReportIncident, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    colour = SEVERITY_COLOUR.get(incident.severity, "#000000")
    head = (f'{rank}. <font color="{colour}"><b>[{incident.severity.upper()}]</b></font> '
            f"{_text(incident.kind.replace('_', ' '))} — {_text(incident.entity)}")
    facts = (f"{incident.direction}, {incident.status}, score {incident.score:.0f}, {incident.events:,} events, "
             f"{incident.first_seen:%Y-%m-%d %H:%M} – {incident.last_seen:%Y-%m-%d %H:%M} UTC")
    if incident.namespaces:
        facts += f", namespaces {', '.join(incident.namespaces)}"
    parts: list[Flowable] = [Paragraph(head, styles["h3"]), Paragraph(_text(facts), styles["small"]),
                             Paragraph(_text(incident.explanation or "(no explanation)"), styles["body"])]
    parts += [Paragraph("• " + _text(reason), styles["small"]) for reason in incident.reasons]
    return parts


def _summary(data: ReportData) -> Table:
    rows: list[list[object]] = [["Incidents", f"{data.incident_total:,}"]]
    rows += [[s.capitalize(), f"{data.severity_counts.get(s, 0):,}"] for s in SEVERITIES]
    rows += [["Drift events", f"{data.events:,}"], ["Snapshots", f"{data.snapshots:,}"],
             ["New external peers", f"{data.peer_total:,}"], ["Policy changes", f"{len(data.policies):,}"]]
    return _table(rows, [60 * mm, 40 * mm], header=False)


def render_pdf(data: ReportData) -> bytes:
    """The report as a PDF document (A4)."""
    styles = _styles()
    story: list[Flowable] = [
        Paragraph(_text(f"SecureGuard report — {data.tenant}"), styles["title"]),
        Paragraph(_text(f"Period: {data.period}. Generated {data.generated_at:%Y-%m-%d %H:%M} UTC."), styles["body"]),
        Paragraph("Summary", styles["h2"]), _summary(data),
        Paragraph("Top incidents", styles["h2"]),
    ]
    if not data.incidents:
        story.append(Paragraph("No incidents in this period.", styles["body"]))
    for rank, incident in enumerate(data.incidents, start=1):
        story += _incident(rank, incident, styles)
    story.append(Paragraph("Service graph", styles["h2"]))
    if data.picture is None:
        story.append(Paragraph("No snapshot in this period.", styles["body"]))
    else:
        p = data.picture
        story += [Paragraph(_text(f"Snapshot {p.snapshot_id}, window {p.window_start:%Y-%m-%d %H:%M} UTC: "
                                  f"{p.total_nodes:,} nodes, {p.total_edges:,} edges (grouped by network when large; "
                                  "blue workloads, green home, orange outside, red lines drift)."), styles["small"]),
                  Spacer(1, 2 * mm), picture_drawing(p)]
    story.append(Paragraph("New external peers", styles["h2"]))
    if data.peers:
        rows: list[list[object]] = [["Address", "Owner", "Country", "First seen", "Events"]]
        rows += [[p.address, (f"AS{p.asn} " if p.asn else "") + (p.owner or "unknown"), p.country,
                  f"{p.first_seen:%Y-%m-%d %H:%M}", f"{p.events:,}"] for p in data.peers]
        story.append(_table(rows, [38 * mm, 55 * mm, 17 * mm, 32 * mm, 18 * mm]))
    else:
        story.append(Paragraph("None in this period.", styles["body"]))
    story.append(Paragraph("Policy changes", styles["h2"]))
    if data.policies:
        rows = [["Policy", "Status", "When", "By"]]
        rows += [[f"{c.namespace}/{c.name} (#{c.policy_id})", c.status, f"{c.at:%Y-%m-%d %H:%M}", c.by]
                 for c in data.policies]
        story.append(_table(rows, [70 * mm, 25 * mm, 32 * mm, 43 * mm]))
    else:
        story.append(Paragraph("None in this period.", styles["body"]))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=f"SecureGuard report {data.tenant}",
                                 author="SecureGuard", leftMargin=20 * mm, rightMargin=20 * mm)
    document.build(story)
    return buffer.getvalue()
