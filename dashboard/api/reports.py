"""`GET /api/v1/reports?from&to&format=md|json|pdf`: a report of the caller's tenant over [from, to) (viewer).

`from` and `to` are ISO 8601 times (a time without a zone is UTC; a date alone is its midnight); the period must
run forwards and span at most 92 days (422 otherwise, with the reason). `md` answers `text/markdown`, `json` the
report document (`jobs.engines.report.jsondoc.SCHEMA`), `pdf` an `application/pdf` attachment.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from dashboard.api.deps import Caller
from jobs.engines.report.jsondoc import render_json
from jobs.engines.report.markdown import render_markdown
from jobs.engines.report.pdf import render_pdf
from jobs.runtime.reports import build_report

router = APIRouter(prefix="/reports")
ANSWERS: dict[int | str, dict[str, Any]] = {200: {"content": {
    "application/json": {"schema": {"type": "object", "properties": {
        "schema": {"type": "string"}, "tenant": {"type": "string"}, "period": {"type": "object"},
        "summary": {"type": "object"}, "incidents": {"type": "array", "items": {"type": "object"}},
    }}},
    "text/markdown": {"schema": {"type": "string"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
}}}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def report_filename(tenant: str, start: datetime, end: datetime, extension: str) -> str:
    """`secureguard-<tenant>-<from>-<to>.<ext>` with only safe characters."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in tenant)[:40] or "tenant"
    return f"secureguard-{safe}-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}.{extension}"


@router.get("", response_class=Response, responses=ANSWERS)
async def get_report(
    caller: Caller,
    start: Annotated[datetime, Query(alias="from", description="period start, ISO 8601 (UTC if no zone)")],
    end: Annotated[datetime, Query(alias="to", description="period end (exclusive), ISO 8601")],
    format: Annotated[Literal["md", "json", "pdf"], Query(description="md, json or pdf")] = "json",
) -> Response:
    """The report of the period in the format asked for."""
    caller.require("viewer")
    data = await build_report(tenant_id=caller.tenant_id, start=_utc(start), end=_utc(end))
    name = report_filename(data.tenant, data.start, data.end, format)
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "md":
        return Response(render_markdown(data), media_type="text/markdown; charset=utf-8", headers=disposition)
    if format == "pdf":
        return Response(await asyncio.to_thread(render_pdf, data), media_type="application/pdf", headers=disposition)
    return Response(json.dumps(render_json(data)), media_type="application/json")
