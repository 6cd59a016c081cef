"""The report engine: Markdown with the top incidents and their explanations, JSON in its schema, and a real PDF
(parsed back with pypdf) that carries the same text and the graph picture."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pypdf
import pytest

from jobs.engines.report.jsondoc import SCHEMA, render_json
from jobs.engines.report.markdown import render_markdown
from jobs.engines.report.model import ReportData, summary_lines
from jobs.engines.report.pdf import picture_drawing, render_pdf
from tests.unit.report.builders import END, START, incident, report


def test_markdown_lists_the_top_incidents_with_explanations_peers_and_policies() -> None:
    text = render_markdown(report())
    assert text.startswith("# SecureGuard report — acme")
    assert "Period: 2026-12-04 00:00 – 2026-12-05 00:00 UTC" in text
    assert text.index("### 1. [HIGH] scan — 10.0.0.0/24") < text.index("### 2. [MEDIUM] new external — 203.0.113.9")
    assert "198.51.100.7 probed 900 ports on 40 home hosts without answer" in text
    assert "- heaviest actor 198.51.100.0/24 (600 attempts)" in text
    assert "| 203.0.113.9 | AS64500 Example Net | NL |" in text
    assert "| payments/allow-api (#5) | approved |" in text
    assert "| High | 1 |" in text and "| Drift events | 1,512 |" in text


def test_markdown_escapes_table_cells_and_says_when_a_section_is_empty() -> None:
    text = render_markdown(report(incidents=(), peers=(), peer_total=0, policies=(), picture=None, tenant="a|b"))
    assert "# SecureGuard report — a\\|b" in text
    assert "No incidents in this period." in text and "No snapshot in this period." in text
    assert text.count("None in this period.") == 2


def test_json_follows_its_schema() -> None:
    doc = render_json(report())
    json.dumps(doc)  # plain JSON values throughout
    assert doc["schema"] == SCHEMA
    assert set(doc) == {"schema", "tenant", "period", "generated_at", "summary", "incidents", "graph",
                        "new_external_peers", "policy_changes", "url"}
    assert doc["period"] == {"from": START.isoformat(), "to": END.isoformat()}
    assert doc["summary"]["by_severity"] == {"critical": 0, "high": 1, "medium": 1, "low": 0, "info": 0}
    assert doc["summary"]["worst_severity"] == "high"
    first = doc["incidents"][0]
    assert first["id"] == 7 and first["reasons"][0] == "ports: 22/tcp, 23/tcp" and first["namespaces"] == ["payments"]
    assert first["first_seen"] == (START + timedelta(hours=2)).isoformat()
    assert doc["new_external_peers"][0] | {"sources": None} == {
        "address": "203.0.113.9", "first_seen": (START + timedelta(hours=3)).isoformat(), "events": 4,
        "sources": None, "asn": 64500, "owner": "Example Net", "country": "NL"}
    assert doc["graph"]["total_nodes"] == 27 and len(doc["graph"]["edges"]) == 2
    assert render_json(report(picture=None))["graph"] is None


def test_pdf_is_a_pdf_whose_text_reads_back() -> None:
    data = render_pdf(report())
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in ("SecureGuard report", "acme", "Top incidents", "10.0.0.0/24",
                     "probed 900 ports", "203.0.113.9", "Example Net", "payments/allow-api", "Service graph"):
        assert expected in text, expected
    assert reader.metadata is not None and reader.metadata.title == "SecureGuard report acme"


def test_pdf_of_many_incidents_runs_over_pages_and_odd_characters_do_not_break_it() -> None:
    many = tuple(incident(id=i, entity=f"10.0.{i}.0/24 ✓ 東京", explanation="x " * 300) for i in range(40))
    data = render_pdf(report(incidents=many, incident_total=40))
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) > 3


def test_the_picture_draws_every_point_and_line_in_the_box() -> None:
    drawing = picture_drawing(report().picture)  # type: ignore[arg-type]
    shapes = drawing.contents
    circles = [s for s in shapes if type(s).__name__ == "Circle"]
    lines = [s for s in shapes if type(s).__name__ == "Line"]
    assert len(circles) == 3 and len(lines) == 2
    assert all(0 <= c.cx <= drawing.width and 0 <= c.cy <= drawing.height for c in circles)


def test_data_refuses_a_backwards_period_and_summary_lines_count() -> None:
    with pytest.raises(ValueError, match="before its end"):
        ReportData(tenant="a", start=END, end=START, generated_at=END)
    lines = summary_lines(report())
    assert lines[0] == "2 incidents (1 high, 1 medium), 1,512 drift events in 24 snapshots."
    assert lines[1].startswith("[HIGH] scan — 10.0.0.0/24: 198.51.100.7 probed")
    assert lines[-1] == "1 new external peers; 1 policy changes."
