"""One drift event in detail: explanation, reasons with evidence, how they make the risk, history, feedback, status,
whitelist. An open event is in the address bar (`?event=ID`), so a link opens it; a bad id says it is not found."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from models.db import session_scope
from models.errors import NotFound
from models.public.drift import DriftEventPublic
from models.queries import drift as drift_queries
from models.queries import whitelist as whitelist_queries
from state.base import AppState, guarded
from state.drift import DriftListState, event_row
from state.evidence import evidence_rows, reason_rows, score_breakdown

WHITELIST_DAYS = 30


def event_in_url(event_id: str) -> EventSpec:
    """Put (or take) `event=ID` in the address bar, keeping the rest of the view's query, without navigating."""
    change = f"u.searchParams.set('event', {json.dumps(event_id)})" if event_id else "u.searchParams.delete('event')"
    return rx.call_script("const u = new URL(window.location.href); " + change +
                          "; window.history.replaceState(null, '', u.pathname + u.search);")


class DriftDetailState(AppState):
    event: dict[str, str] = {}
    reasons: list[dict[str, str]] = []
    evidence: list[list[str]] = []
    # how the reasons make the risk, in words and the same numbers (state.evidence.score_breakdown)
    formation: str = ""
    history: list[dict[str, str]] = []
    notice: str = ""

    @rx.var
    def is_open(self) -> bool:
        return bool(self.event)

    @rx.event
    @guarded("viewer")
    async def open_from_url(self) -> None:
        """on_load: `?event=ID` opens that event; an id that is none of the tenant's events says so."""
        event_id = self.router.url.query_parameters.get("event")
        self.event, self.notice = {}, ""
        if event_id is None:
            return
        if not event_id.strip().isdigit():
            self.notice = f"drift event {event_id[:40]!r} not found: an event link ends in its number (?event=123)."
            return
        await self._open(int(event_id))

    @rx.event
    @guarded("viewer")
    async def open_event(self, event_id: str) -> EventSpec | None:
        """Open one event, and put it in the address bar (a link to it can be shared)."""
        if not event_id.isdigit():
            return None
        await self._open(int(event_id))
        return event_in_url(event_id if self.event else "")

    async def _open(self, event_id: int) -> None:
        tenant_id = self._tenant_id
        try:
            async with session_scope() as session:
                row = await drift_queries.get_event(session, tenant_id=tenant_id, event_id=event_id)
                history = await drift_queries.event_history(session, tenant_id=tenant_id, event_id=event_id)
        except NotFound as exc:
            self.notice, self.event = exc.message, {}
            return
        public = DriftEventPublic.of(row).model_dump()
        self.event = event_row(public)
        self.reasons = reason_rows(public["reasons"])
        self.formation = score_breakdown(public["reasons"], float(public["risk"]))
        self.evidence = evidence_rows(public.get("evidence"))
        self.history = [{k: str(v) for k, v in h.items()} for h in history]
        self.notice = ""

    @rx.event
    @guarded("viewer")
    def close(self) -> EventSpec:
        """Close the detail; the address bar drops the event."""
        self.event, self.notice = {}, ""
        return event_in_url("")

    async def _after_change(self, message: str) -> None:
        await self._open(int(self.event["id"]))
        self.notice = message
        listing = await self.get_state(DriftListState)
        await listing._query()

    @rx.event
    @guarded("analyst")
    async def set_status(self, status: str) -> None:
        """Acknowledge, resolve, reopen… one event."""
        try:
            async with session_scope() as session:
                await drift_queries.set_event_status(session, tenant_id=self._tenant_id,
                                                     event_ids=[int(self.event["id"])], status=status, actor=self.actor)
        except (NotFound, ValueError) as exc:
            self.notice = getattr(exc, "message", str(exc))
            return
        await self._after_change(f"Marked {status}.")

    @rx.event
    @guarded("analyst")
    async def give_feedback(self, verdict: str, form: dict[str, Any] | None = None) -> None:
        """True or false positive, with an optional note; it moves the ranking of similar events."""
        note = str((form or {}).get("note", ""))[:2000]
        try:
            async with session_scope() as session:
                await drift_queries.add_feedback(session, tenant_id=self._tenant_id, event_id=int(self.event["id"]),
                                                 verdict=verdict, actor=self.actor, user_id=self._user_id, note=note)
        except (NotFound, ValueError) as exc:
            self.notice = getattr(exc, "message", str(exc))
            return
        await self._after_change(f"Recorded {verdict.replace('_', ' ')}: similar events will rank accordingly.")

    @rx.event
    @guarded("analyst")
    async def whitelist(self, form: dict[str, Any]) -> None:
        """Whitelist this event's pattern (src, dst, port) with a reason and an expiry."""
        reason = str(form.get("reason", "")).strip()
        days = int(form.get("days") or WHITELIST_DAYS)
        port = self.event["port"]
        try:
            async with session_scope() as session:
                await whitelist_queries.create_whitelist(
                    session, tenant_id=self._tenant_id, src_pattern=self.event["src"],
                    dst_pattern=self.event["dst_node"], port=int(port) if port.isdigit() else None,
                    expires_at=datetime.now(UTC) + timedelta(days=days), reason=reason, author=self.actor)
        except ValueError as exc:
            self.notice = str(exc)
            return
        self.notice = f"Whitelisted for {days} days: matching events will be stored as suppressed."
