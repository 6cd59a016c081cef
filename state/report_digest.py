"""The scheduled report digest setting (admins, on the Integrations page): off, daily or weekly at an hour (UTC);
the digest goes to every enabled integration (`jobs.tasks.report_digest`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from jobs.engines.report.schedule import MODES, DigestSchedule
from models.db import session_scope
from models.queries import report_schedule
from models.types import utcnow
from state.base import AppState, guarded


class ReportDigestState(AppState):
    digest_mode: str = "off"
    digest_hour: str = "8"
    digest_message: str = ""
    digest_error: bool = False

    @rx.event
    @guarded("admin")
    async def load_digest(self) -> None:
        """The tenant's setting as stored."""
        async with session_scope() as session:
            stored = await report_schedule.get_digest_setting(session, tenant_id=self._tenant_id)
        schedule = DigestSchedule.from_setting(stored)
        self.digest_mode, self.digest_hour = schedule.mode, str(schedule.hour)

    @rx.event
    @guarded("admin")
    async def set_digest_mode(self, mode: str) -> None:
        """off, daily or weekly (saved with the hour)."""
        if mode not in MODES:
            self.digest_message, self.digest_error = f"Choose one of {', '.join(MODES)}.", True
            return
        self.digest_mode = mode

    @rx.event
    @guarded("admin")
    async def save_digest(self, form: dict[str, Any]) -> None:
        """Save the schedule (audited); reports due before now are never sent for it."""
        hour = str(form.get("hour", "")).strip()
        try:
            schedule = DigestSchedule(self.digest_mode, int(hour) if hour.isdigit() else -1, since=utcnow())
        except ValueError as exc:
            self.digest_message, self.digest_error = str(exc), True
            return
        async with session_scope() as session:
            await report_schedule.set_digest_setting(session, tenant_id=self._tenant_id, actor=self.actor,
                                                     value=schedule.to_setting())
        self.digest_hour = str(schedule.hour)
        when = {"off": "off", "daily": f"daily at {schedule.hour:02d}:00 UTC (yesterday's report)",
                "weekly": f"weekly, Mondays at {schedule.hour:02d}:00 UTC (last week's report)"}[schedule.mode]
        self.digest_message, self.digest_error = f"Report digest: {when}.", False
