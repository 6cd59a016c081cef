"""The Reports page (everyone of the tenant): pick a period of UTC days and a format, preview the Markdown, and
download the report (Markdown, JSON or PDF) built by the same code as `GET /api/v1/reports`."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import reflex as rx
from reflex_base.event import EventSpec

from jobs.engines.report.jsondoc import render_json
from jobs.engines.report.markdown import render_markdown
from jobs.engines.report.model import FORMATS, ReportData
from jobs.engines.report.pdf import render_pdf
from jobs.runtime.reports import build_report
from models.db import session_scope
from models.errors import Invalid
from models.queries import drift_stats
from models.types import utcnow
from state.base import AppState, guarded
from state.overview import data_end

MIME = {"md": "text/markdown", "json": "application/json", "pdf": "application/pdf"}
DEFAULT_DAYS = 7


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise Invalid(f"{what} must be a day like 2026-12-04, not {text[:20]!r}") from None


def period_of(start_day: str, end_day: str) -> tuple[datetime, datetime]:
    """[start day 00:00 UTC, the day after the end day 00:00 UTC): the end day is included."""
    start, end = _day(start_day, "From"), _day(end_day, "To")
    return (datetime.combine(start, datetime.min.time(), UTC),
            datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC))


def filename_of(data: ReportData, fmt: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in data.tenant)[:40] or "tenant"
    return f"secureguard-{safe}-{data.start:%Y%m%d}-{data.end:%Y%m%d}.{fmt}"


class ReportsState(AppState):
    start_day: str = ""
    end_day: str = ""
    report_format: str = "pdf"
    preview_md: str = ""
    message: str = ""
    is_error: bool = False

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message, self.is_error = text, error

    async def _build(self) -> ReportData | None:
        try:
            start, end = period_of(self.start_day, self.end_day)
            return await build_report(tenant_id=self._tenant_id, start=start, end=end)
        except Invalid as exc:
            self._say(exc.message, error=True)
            return None

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """The period from the link (`?from=…&to=…`, as a digest's link gives it) or the seven days that end with
        the newest data (today, or the newest snapshot's day when the flows are older, as on the Overview), and its
        preview."""
        params = self.router.url.query_parameters
        today = utcnow().date()
        if not params.get("from") or not params.get("to"):
            async with session_scope() as session:
                kpis = await drift_stats.drift_kpis(session, tenant_id=self._tenant_id)
            today = data_end(kpis.get("last_snapshot_at")).date()
        self.start_day = str(params.get("from") or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat())[:10]
        to = str(params.get("to") or "")
        self.end_day = to[:10] or today.isoformat()
        if to[10:].startswith("T00:00"):  # a link's `to` is the exclusive end (midnight): show the day before
            try:
                self.end_day = (_day(to, "To") - timedelta(days=1)).isoformat()
            except Invalid as exc:
                self._say(exc.message, error=True)
                return
        await self._preview()

    @rx.event
    @guarded("viewer")
    async def set_start_day(self, value: str) -> None:
        """The first day of the period (UTC)."""
        self.start_day = value[:10]

    @rx.event
    @guarded("viewer")
    async def set_end_day(self, value: str) -> None:
        """The last day of the period (UTC, included)."""
        self.end_day = value[:10]

    @rx.event
    @guarded("viewer")
    async def set_format(self, value: str) -> None:
        """md, json or pdf."""
        if value not in FORMATS:
            self._say(f"Choose a format: {', '.join(FORMATS)}.", error=True)
            return
        self.report_format = value

    @rx.event
    @guarded("viewer")
    async def preview(self) -> None:
        """The period's report as Markdown, shown on the page."""
        await self._preview()

    async def _preview(self) -> None:
        data = await self._build()
        if data is None:
            return
        self.preview_md = render_markdown(data)
        self._say(f"{data.incident_total} incidents, {data.peer_total} new external peers, "
                  f"{len(data.policies)} policy changes in {data.period}.")

    @rx.event
    @guarded("viewer")
    async def download(self) -> EventSpec | None:
        """The browser saves the period's report in the chosen format."""
        data = await self._build()
        if data is None:
            return None
        self.preview_md = render_markdown(data)
        self._say(f"Downloading the {self.report_format.upper()} report of {data.period}.")
        body: str | bytes
        if self.report_format == "pdf":
            body = await asyncio.to_thread(render_pdf, data)
        elif self.report_format == "json":
            body = json.dumps(render_json(data), indent=2)
        else:
            body = self.preview_md
        fmt = self.report_format
        return rx.download(data=body, filename=filename_of(data, fmt), mime_type=MIME[fmt])
