"""The Drift events page: filters, server-side sort and paging, bulk status change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from models.db import session_scope
from models.drift import EVENT_STATUSES
from models.errors import NotFound
from models.public.drift import DriftEventPublic
from models.queries import drift as drift_queries
from state.base import AppState, guarded
from state.live import listens_to

PAGE_SIZE = 50
KINDS = ("new_edge", "removed_edge", "new_port", "new_external", "new_node", "traffic_spike", "beacon")
SEVERITIES = ("critical", "high", "medium", "low", "info")
SORTS = ("risk", "created_at", "kind", "severity")
ANY = "any"


def event_row(event: dict[str, Any]) -> dict[str, str]:
    """An event as the table shows it."""
    port = f":{event['dst_port']}" if event.get("dst_port") is not None else ""
    window = event.get("window_start") or event.get("created_at") or ""
    return {
        "id": str(event["id"]), "kind": event["kind"], "severity": event["severity"], "risk": str(event["risk"]),
        "src": event["src"], "dst": f"{event['dst']}{port}", "protocol": event.get("protocol") or "",
        "dst_node": event["dst"], "port": "" if event.get("dst_port") is None else str(event["dst_port"]),
        "status": event["status"], "window": window[:16].replace("T", " "), "explanation": event["explanation"],
    }


@listens_to("drift.created")
class DriftListState(AppState):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    filters: dict[str, str] = {"kind": ANY, "severity": ANY, "status": "open", "min_risk": "", "text": "",
                               "since": "", "until": ""}
    sort: str = "risk"
    descending: bool = True
    selected: list[str] = []
    pending_bulk: str = ""
    message: str = ""
    fresh: int = 0

    @rx.var
    def page_label(self) -> str:
        if not self.total:
            return "no events"
        return f"{self.offset + 1}–{min(self.offset + PAGE_SIZE, self.total)} of {self.total:,}"

    @rx.var
    def can_change(self) -> bool:
        return self.role in ("analyst", "approver", "admin")

    async def _query(self) -> None:
        tenant_id = self._tenant_id
        f = self.filters
        try:
            since = datetime.fromisoformat(f["since"]) if f["since"] else None
            until = datetime.fromisoformat(f["until"]) if f["until"] else None
            async with session_scope() as session:
                rows, self.total = await drift_queries.list_events(
                    session, tenant_id=tenant_id, kind=None if f["kind"] == ANY else f["kind"],
                    severity=None if f["severity"] == ANY else f["severity"],
                    status=None if f["status"] == ANY else f["status"],
                    min_risk=int(f["min_risk"]) if f["min_risk"] else None, text=f["text"] or None,
                    since=since.astimezone() if since else None, until=until.astimezone() if until else None,
                    sort=self.sort, descending=self.descending, limit=PAGE_SIZE, offset=self.offset,
                )
        except ValueError as exc:
            self.message = str(exc)
            return
        self.rows, self.message, self.fresh = [event_row(DriftEventPublic.of(r).model_dump()) for r in rows], "", 0

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """First page with the current filters; `?event=ID` opens that event's detail."""
        await self._query()

    @rx.event
    @guarded("viewer")
    async def apply_filters(self, form: dict[str, Any]) -> None:
        """Filters from the form (Enter submits); back to the first page."""
        self.filters = {k: str(form.get(k, self.filters.get(k, ""))).strip() for k in self.filters}
        self.offset, self.selected = 0, []
        await self._query()

    @rx.event
    @guarded("viewer")
    async def sort_by(self, column: str) -> None:
        """Click a header: sort by it; click again to flip the order."""
        if column not in SORTS:
            return
        self.descending = not self.descending if self.sort == column else True
        self.sort, self.offset = column, 0
        await self._query()

    @rx.event
    @guarded("viewer")
    async def page(self, step: int) -> None:
        """Next (1) or previous (-1) page."""
        self.offset = max(0, min(self.offset + step * PAGE_SIZE, max(self.total - 1, 0) // PAGE_SIZE * PAGE_SIZE))
        self.selected = []
        await self._query()

    @rx.event
    @guarded("viewer")
    def toggle(self, event_id: str) -> None:
        self.selected = [i for i in self.selected if i != event_id] if event_id in self.selected else [
            *self.selected, event_id]

    @rx.event
    @guarded("viewer")
    def toggle_page(self) -> None:
        ids = [r["id"] for r in self.rows]
        self.selected = [] if set(ids) <= set(self.selected) else ids

    @rx.event
    @guarded("viewer")
    def ask_bulk(self, status: str) -> None:
        """Bulk change starts with a confirmation naming how many events."""
        if status in EVENT_STATUSES and self.selected:
            self.pending_bulk = status

    @rx.event
    @guarded("viewer")
    def cancel_bulk(self) -> None:
        self.pending_bulk = ""

    @rx.event
    @guarded("analyst")
    async def confirm_bulk(self) -> None:
        """Apply the confirmed status to every selected event (audited per event)."""
        status, ids = self.pending_bulk, [int(i) for i in self.selected]
        self.pending_bulk = ""
        try:
            async with session_scope() as session:
                changed = await drift_queries.set_event_status(session, tenant_id=self._tenant_id, event_ids=ids,
                                                               status=status, actor=self.actor)
        except NotFound as exc:
            self.message = exc.message
            return
        self.selected = []
        await self._query()
        self.message = f"{len(changed)} events marked {status}."

    @rx.event
    @guarded("viewer")
    async def show_fresh(self) -> None:
        self.offset = 0
        await self._query()

    def _on_live_event(self, event: dict[str, Any]) -> None:
        """New events are announced, not spliced into a filtered, sorted page."""
        data = event.get("data", {})
        self.fresh += len(data.get("events", [data] if "kind" in data else []))
