"""The Drift events page: filters, server-side sort and paging, bulk status change (the rows ticked, the page, or
every event matching the filters, with the count in the confirmation).

The filters live in the address bar as `ev_`-prefixed parameters (`/drift?tab=events&ev_kind=beacon&ev_since=…`),
beside the incident list's own, so a link opens the same list; the tenant comes from the session, never the URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import session_scope
from models.drift import EVENT_KINDS, EVENT_STATUSES
from models.drift import SEVERITIES as SEVERITIES
from models.errors import Invalid
from models.public.drift import DriftEventPublic
from models.queries import drift as drift_queries
from state import bulk
from state.base import AppState, guarded
from state.live import listens_to

PAGE_SIZE = 50
# every stored kind (drift's, detection's findings, monitor violations), so each can be filtered for
KINDS = EVENT_KINDS
SORTS = ("risk", "window_start", "kind", "severity")
ANY = "any"
DAY = timedelta(days=1)
DEFAULT_FILTERS = {"kind": ANY, "severity": ANY, "status": "open", "min_risk": "", "text": "", "since": "", "until": ""}
# a filter's name in the address bar (the incident list owns the plain `status`, `kind`, `severity` and `q`)
URL_NAMES = {"kind": "ev_kind", "severity": "ev_severity", "status": "ev_status", "min_risk": "ev_risk",
             "text": "ev_q", "since": "ev_since", "until": "ev_until"}
CHOICES: dict[str, tuple[str, ...]] = {"kind": KINDS, "severity": SEVERITIES, "status": EVENT_STATUSES}
MAX_TEXT = 200


def day_bounds(since: str, until: str) -> tuple[datetime | None, datetime | None]:
    """The [from, to] days of the form as [start, end) in UTC: a day is that whole day, so from = to is one day."""
    bounds: list[datetime | None] = []
    for name, text, shift in (("from", since, timedelta(0)), ("to", until, DAY)):
        try:
            day = date.fromisoformat(text) if text else None
        except ValueError:
            raise Invalid(f"the {name} day must be a date like 2024-04-19, not {text[:40]!r}") from None
        bounds.append(datetime(day.year, day.month, day.day, tzinfo=UTC) + shift if day else None)
    start, end = bounds
    if start is not None and end is not None and start >= end:
        raise Invalid(f"the to day ({until}) is before the from day ({since}): pick a later to day")
    return start, end


def filter_args(filters: Mapping[str, str]) -> dict[str, Any]:
    """The form's filters as `list_events` takes them (Invalid with a message for a bad one)."""
    since, until = day_bounds(filters.get("since", ""), filters.get("until", ""))
    risk = filters.get("min_risk", "")
    if risk and not risk.isdigit():
        raise Invalid(f"min risk must be a whole number from 0 to 100, not {risk[:20]!r}")
    return {"kind": None if filters["kind"] == ANY else filters["kind"],
            "severity": None if filters["severity"] == ANY else filters["severity"],
            "status": None if filters["status"] == ANY else filters["status"],
            "min_risk": int(risk) if risk else None, "text": filters.get("text") or None,
            "since": since, "until": until}


def filters_from_url(params: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The events' filters a link asks for (the defaults for those it does not name), and what in it was refused
    (the default is kept for those)."""
    found, refused = dict(DEFAULT_FILTERS), []
    for name, param in URL_NAMES.items():
        value = str(params.get(param, "")).strip()[:MAX_TEXT]
        if not value:
            continue
        allowed = CHOICES.get(name)
        if allowed is not None and value != ANY and value not in allowed:
            refused.append(f"{name} {value[:40]!r} is not one of {', '.join(allowed)}")
            continue
        found[name] = value
    return found, refused


def url_filters(filters: Mapping[str, str]) -> dict[str, str]:
    """The filters as address-bar parameters: only those that differ from the defaults."""
    return {URL_NAMES[k]: v for k, v in filters.items() if k in URL_NAMES and v != DEFAULT_FILTERS.get(k)}


def filters_in_url(filters: Mapping[str, str]) -> EventSpec:
    """Put the events' filters in the address bar (the tab on events), keeping the rest of the query, without
    navigating."""
    script = ("const u = new URL(window.location.href); for (const k of [...u.searchParams.keys()])"
              " { if (k.startsWith('ev_')) u.searchParams.delete(k); }"
              " u.searchParams.set('tab', 'events');"
              f" for (const [k, v] of Object.entries({json.dumps(url_filters(filters))})) u.searchParams.set(k, v);"
              " window.history.replaceState(null, '', u.pathname + u.search);")
    return rx.call_script(script)


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
    filters: dict[str, str] = dict(DEFAULT_FILTERS)
    sort: str = "risk"
    descending: bool = True
    selected: list[str] = []
    # the bulk change covers every event matching the filters, not only the ticked rows
    all_matching: bool = False
    # how many events the pending bulk change touches (the confirmation's count)
    bulk_count: int = 0
    pending_bulk: str = ""
    message: str = ""
    fresh: int = 0
    # the highest event id the confirmed count covered (events arriving later are not changed)
    _bulk_upto: int = 0

    @rx.var
    def page_label(self) -> str:
        if not self.total:
            return "no events"
        return f"{self.offset + 1}–{min(self.offset + PAGE_SIZE, self.total)} of {self.total:,}"

    @rx.var
    def can_change(self) -> bool:
        return self.role in ("analyst", "approver", "admin")

    @rx.var
    def page_selected(self) -> bool:
        return bulk.whole_page([r["id"] for r in self.rows], self.selected)

    async def _query(self) -> None:
        try:
            async with session_scope() as session:
                rows, self.total = await drift_queries.list_events(
                    session, tenant_id=self._tenant_id, **filter_args(self.filters), sort=self.sort,
                    descending=self.descending, limit=PAGE_SIZE, offset=self.offset)
        except Invalid as exc:
            # refused filters show no rows: the old ones would read as their answer
            self.rows, self.total, self.selected, self.all_matching = [], 0, [], False
            self.message = exc.message
            return
        self.rows, self.message, self.fresh = [event_row(DriftEventPublic.of(r).model_dump()) for r in rows], "", 0

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """First page with the filters of the link (`?ev_kind=…&ev_since=…`; the defaults for those it does not
        name); `?event=ID` opens that event's detail (DriftDetailState)."""
        self.filters, refused = filters_from_url(self.router.url.query_parameters)
        self.offset, self.selected, self.all_matching = 0, [], False
        await self._query()
        if refused:
            self.message = "Ignored from the link: " + "; ".join(refused) + "."

    @rx.event
    @guarded("viewer")
    async def apply_filters(self, form: dict[str, Any]) -> EventSpec:
        """Filters from the form (Enter submits); back to the first page, nothing selected; the URL follows."""
        self.filters = {k: str(form.get(k, self.filters.get(k, ""))).strip()[:MAX_TEXT] for k in self.filters}
        self.offset, self.selected, self.all_matching = 0, [], False
        await self._query()
        return filters_in_url(self.filters)

    @rx.event
    @guarded("viewer")
    async def sort_by(self, column: str) -> None:
        """Click a header: sort by it; click again to flip the order."""
        if column not in SORTS:
            self.message = f"cannot sort by {column[:40]!r}: choose one of {', '.join(SORTS)}"
            return
        self.descending = not self.descending if self.sort == column else True
        self.sort, self.offset = column, 0
        await self._query()

    @rx.event
    @guarded("viewer")
    async def page(self, step: int) -> None:
        """Next (1) or previous (-1) page; the ticks of a page do not carry over (a filter-wide choice does)."""
        self.offset = max(0, min(self.offset + step * PAGE_SIZE, max(self.total - 1, 0) // PAGE_SIZE * PAGE_SIZE))
        self.selected = []
        await self._query()

    @rx.event
    @guarded("viewer")
    def toggle(self, event_id: str) -> None:
        self.selected, self.all_matching = bulk.toggled(self.selected, event_id), False

    @rx.event
    @guarded("viewer")
    def select_scope(self, scope: str) -> None:
        """"page" ticks (or unticks) every row shown; "matching" takes every event matching the filters, on
        every page; "none" clears."""
        self.selected, self.all_matching = bulk.scoped(scope, [r["id"] for r in self.rows], self.selected)

    @rx.event
    @guarded("viewer")
    async def ask_bulk(self, status: str) -> None:
        """Bulk change starts with a confirmation naming how many events (counted now, for a filter-wide one)."""
        await bulk.ask(self, status, self.selected, statuses=EVENT_STATUSES, noun="events",
                       count_matching=lambda session: drift_queries.count_matching(
                           session, tenant_id=self._tenant_id, **filter_args(self.filters)))

    @rx.event
    @guarded("viewer")
    def cancel_bulk(self) -> None:
        self.pending_bulk = ""

    @rx.event
    @guarded("analyst")
    async def confirm_bulk(self) -> None:
        """Apply the confirmed status to the ticked events, or to every event matching the filters that was
        counted in the confirmation (audited per event)."""
        ids = [int(i) for i in self.selected]

        async def change_ticked(session: AsyncSession, status: str) -> int:
            return len(await drift_queries.set_event_status(
                session, tenant_id=self._tenant_id, event_ids=ids, status=status, actor=self.actor))

        # a filter-wide change skips the events already in that status: bulk.confirm says so, not "0 marked"
        await bulk.confirm(
            self, "selected", noun="events", reload=self._query, change_ticked=change_ticked,
            change_matching=lambda session, status: drift_queries.set_status_matching(
                session, tenant_id=self._tenant_id, new_status=status, actor=self.actor, upto_id=self._bulk_upto,
                **filter_args(self.filters)))

    @rx.event
    @guarded("viewer")
    async def show_fresh(self) -> None:
        self.offset = 0
        await self._query()

    def _on_live_event(self, event: dict[str, Any]) -> None:
        """New events are announced, not spliced into a filtered, sorted page."""
        data = event.get("data", {})
        self.fresh += len(data.get("events", [data] if "kind" in data else []))
