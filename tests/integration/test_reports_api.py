"""`GET /api/v1/reports`: the period's report as JSON, Markdown and a real PDF (read back with pypdf), for a
viewer; clear 422s for a bad period or format; a tenant never sees another's incidents."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
import pypdf
import pytest

from jobs.engines.report.jsondoc import SCHEMA
from tests.builders import bearer, make_tenant
from tests.integration.report_support import DAY, seed_day

pytestmark = pytest.mark.integration
PERIOD = {"from": DAY.isoformat(), "to": (DAY + timedelta(days=1)).isoformat()}


async def test_report_in_three_formats_for_a_viewer(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme", token_role="viewer")
    ids = await seed_day(acme.tenant_id)
    answer = await client.get("/api/v1/reports", params=PERIOD | {"format": "json"}, headers=bearer(acme.token))
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["schema"] == SCHEMA and doc["tenant"] == "acme"
    assert doc["summary"]["incidents"] == 2 and doc["summary"]["by_severity"]["high"] == 1
    assert doc["summary"]["drift_events"] == 2 and doc["summary"]["snapshots"] == 1
    assert [i["id"] for i in doc["incidents"]] == [ids["scan"], ids["peer"]]  # by score
    assert doc["incidents"][0]["explanation"] == "198.51.100.7 probed 900 ports on 10.0.0.0/24"
    assert doc["incidents"][1]["namespaces"] == ["payments", "shop"]
    assert [p["address"] for p in doc["new_external_peers"]] == ["203.0.113.9"]
    assert doc["new_external_peers"][0]["events"] == 2
    assert [(c["name"], c["status"], c["by"]) for c in doc["policy_changes"]] == [("allow-api", "approved", "ann@acme")]
    assert doc["graph"]["snapshot_id"] == ids["snapshot"] and doc["graph"]["total_nodes"] == 3
    assert len(doc["graph"]["nodes"]) == 3 and len(doc["graph"]["edges"]) == 2
    md = await client.get("/api/v1/reports", params=PERIOD | {"format": "md"}, headers=bearer(acme.token))
    assert md.headers["content-type"].startswith("text/markdown")
    assert "### 1. [HIGH] scan — 10.0.0.0/24" in md.text and "payments/allow-api" in md.text
    pdf = await client.get("/api/v1/reports", params=PERIOD | {"format": "pdf"}, headers=bearer(acme.token))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert 'filename="secureguard-acme-20261204T0000-20261205T0000.pdf"' in pdf.headers["content-disposition"]
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "probed 900 ports" in text and "203.0.113.9" in text and "Service graph" in text


async def test_a_tenant_gets_only_its_own_report(client: httpx.AsyncClient) -> None:
    acme, other = await make_tenant("acme"), await make_tenant("other", token_role="viewer")
    await seed_day(acme.tenant_id)
    await seed_day(other.tenant_id, peer="192.0.2.77", entity="10.9.0.0/24", author="bob@other")
    mine = (await client.get("/api/v1/reports", params=PERIOD, headers=bearer(other.token))).json()
    assert [i["entity"] for i in mine["incidents"]] == ["10.9.0.0/24", "192.0.2.77"]
    assert [p["address"] for p in mine["new_external_peers"]] == ["192.0.2.77"]
    md = await client.get("/api/v1/reports", params=PERIOD | {"format": "md"}, headers=bearer(other.token))
    assert "203.0.113.9" not in md.text and "10.0.0.0/24" not in md.text and "acme" not in md.text
    empty = await client.get("/api/v1/reports", params={"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"},
                             headers=bearer(other.token))
    assert empty.json()["summary"]["incidents"] == 0 and empty.json()["graph"] is None


@pytest.mark.parametrize(("params", "needle"), [
    ({"from": "2026-12-05T00:00:00Z", "to": "2026-12-04T00:00:00Z"}, "from must be before to"),
    ({"from": "2026-01-01T00:00:00Z", "to": "2026-12-04T00:00:00Z"}, "at most 92 days"),
    ({"from": "2026-12-04T00:00:00Z", "to": "2026-12-05T00:00:00Z", "format": "xls"}, "format"),
    ({"to": "2026-12-05T00:00:00Z"}, "from"),
    ({"from": "yesterday", "to": "2026-12-05T00:00:00Z"}, "from"),
])
async def test_bad_periods_and_formats_are_422_with_the_reason(
    client: httpx.AsyncClient, params: dict[str, str], needle: str
) -> None:
    acme = await make_tenant("acme", token_role="viewer")
    answer = await client.get("/api/v1/reports", params=params, headers=bearer(acme.token))
    assert answer.status_code == 422 and needle in answer.text, answer.text


async def test_no_token_no_report(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/reports", params=PERIOD)).status_code == 401
