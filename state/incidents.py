"""The Drift page's incident table: filters, paging, a shareable URL, a live refresh on `incident.changed`, and bulk
status change (the rows ticked, the page, or every incident matching the filters, with the count in the confirmation;
the selection logic is shared with the events list, `state.bulk`).

The URL carries the tab, the filters and the open incident (`/drift?status=open&kind=beacon&incident=12`), so a
link opens the same view for a colleague of the same tenant (the tenant comes from the session, never the URL).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import reflex as rx
from reflex_base.event import EventSpec

from models.db import session_scope
from models.drift import EVENT_KINDS, SEVERITIES
from models.errors import Invalid
from models.incidents import DIRECTIONS, INCIDENT_STATUSES
from models.public.incidents import IncidentPublic
from models.queries import incident_bulk
from models.queries import incidents as incident_queries
from state import bulk
from state.base import AppState, guarded
from state.live import listens_to

PAGE_SIZE = 25
ANY = "any"
TABS = ("incidents", "events")
# The filters' choices (the free text aside). A URL value outside them is refused with a message.
CHOICES: dict[str, tuple[str, ...]] = {"status": INCIDENT_STATUSES, "kind": EVENT_KINDS, "direction": DIRECTIONS,
                                       "severity": SEVERITIES}
DEFAULT_FILTERS = {"status": "open", "kind": ANY, "direction": ANY, "severity": ANY, "q": ""}
MAX_TEXT = 200
# what a bulk change may set (a verdict, false positive, is given one incident at a time: ranking learns from it)
BULK_STATUSES = ("acknowledged", "resolved", "open")


def when(value: str | datetime | None) -> str:
    """A time (ISO text or datetime; naive = UTC) as the tables show it: to the minute, in UTC."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def incident_row(incident: Mapping[str, Any]) -> dict[str, str]:
    """An incident (`IncidentPublic` as a dict) as the tables and the detail show it."""
    i = incident
    return {
        "id": str(i["id"]), "kind": str(i["kind"]), "kind_label": str(i["kind"]).replace("_", " "),
        "direction": str(i["direction"]), "entity": str(i["entity"]), "service": str(i["service"] or ""),
        "severity": str(i["severity"]), "score": f"{float(i['score']):.0f}",
        "peak_risk": f"{float(i['peak_risk']):.0f}", "rank_note": str(i.get("rank_note") or ""),
        "score_note": score_note(float(i["score"]), float(i["peak_risk"]), str(i.get("rank_note") or "")),
        "status": str(i["status"]), "status_by": str(i.get("status_by") or ""),
        "status_at": when(i.get("status_at")), "first_seen": when(i["first_seen"]), "last_seen": when(i["last_seen"]),
        "events": f"{int(i['events']):,}", "attempts": f"{int(i['attempts']):,}", "answered": f"{int(i['answered']):,}",
        "sources": f"{int(i['sources']):,}", "hosts": f"{int(i['hosts']):,}", "summary": str(i["summary"]),
    }


def score_note(score: float, peak_risk: float, rank_note: str = "") -> str:
    """How an incident's score is made (jobs.engines.detect.ranking): its peak risk, times a factor from analysts'
    verdicts on the same or similar incidents (×2 per confirmation of the same, ×2^(1/3) of a similar one, /2 and
    /2^(1/3) per false positive; at most ×10 or /10), capped at 100."""
    if peak_risk <= 0 or abs(score - peak_risk) < 0.05:
        return f"score {score:.0f} = the peak risk of its events (no analyst verdict on the same or similar ones)"
    factor = score / peak_risk
    capped = " (capped at 100)" if score >= 100 else ""
    why = f" ({rank_note.removeprefix('analysts: ')})" if rank_note else ""
    return f"score {score:.0f} = peak risk {peak_risk:.0f} × {factor:.2f} from analysts' verdicts{capped}{why}"


def filters_from(params: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The filters a URL (or a form) asks for, and what in it was refused (the default is kept for those)."""
    found, refused = dict(DEFAULT_FILTERS), []
    for name, allowed in CHOICES.items():
        value = str(params.get(name, found[name])).strip()
        if value == ANY or value in allowed:
            found[name] = value
        else:
            refused.append(f"{name} {value!r} is not one of {', '.join(allowed)}")
    found["q"] = str(params.get("q", "")).strip()[:MAX_TEXT]
    return found, refused


def share_query(filters: Mapping[str, str], *, tab: str = "incidents", incident_id: str = "") -> str:
    """`?…` for the view: only what differs from the defaults, so a plain /drift stays plain."""
    params = {k: v for k, v in filters.items() if v != DEFAULT_FILTERS.get(k)}
    params |= {"tab": tab} if tab != "incidents" else {}
    params |= {"incident": incident_id} if incident_id else {}
    return "?" + urlencode(params) if params else ""


def replace_url(query: str) -> EventSpec:
    """Put the view in the address bar without navigating (the page is not loaded again); the events tab's own
    filters (`ev_…`, state.drift) stay."""
    return rx.call_script(
        f"const u = new URL('/drift' + {json.dumps(query)}, window.location.href);"
        " for (const [k, v] of new URLSearchParams(window.location.search)) { if (k.startsWith('ev_'))"
        " u.searchParams.set(k, v); } window.history.replaceState(null, '', u.pathname + u.search);")


def changed_ids(event: Mapping[str, Any]) -> set[str]:
    """The incident ids an `incident.changed` event names."""
    data = event.get("data", {})
    ids = data.get("ids", data.get("incident_ids", []))
    return {str(i) for i in ids} if isinstance(ids, list) else set()


@listens_to("incident.changed")
class IncidentListState(AppState):
    tab: str = "incidents"
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    filters: dict[str, str] = dict(DEFAULT_FILTERS)
    # The open incident's id, for the URL and the highlighted row ("" when none).
    selected: str = ""
    message: str = ""
    # the ids ticked for a bulk change, or every incident matching the filters
    ticked: list[str] = []
    all_matching: bool = False
    # how many incidents the pending bulk change touches (the confirmation's count)
    bulk_count: int = 0
    pending_bulk: str = ""
    # the highest incident id the confirmed count covered (incidents arriving later are not changed)
    _bulk_upto: int = 0

    @rx.var
    def page_label(self) -> str:
        if not self.total:
            return "no incidents"
        return f"{self.offset + 1}–{min(self.offset + PAGE_SIZE, self.total)} of {self.total:,}"

    @rx.var
    def can_change(self) -> bool:
        return self.role in ("analyst", "approver", "admin")

    @rx.var
    def page_selected(self) -> bool:
        return bulk.whole_page([r["id"] for r in self.rows], self.ticked)

    def _share(self) -> EventSpec:
        """The address bar follows the view."""
        return replace_url(share_query(self.filters, tab=self.tab, incident_id=self.selected))

    def _chosen(self) -> dict[str, str | None]:
        """The filters as the queries take them (None for any)."""
        return {k: (None if v in (ANY, "") else v) for k, v in self.filters.items()}

    async def _query(self) -> None:
        """The current page with the current filters, in rank order."""
        f = self._chosen()
        try:
            async with session_scope() as session:
                rows, self.total = await incident_queries.list_incidents(
                    session, tenant_id=self._tenant_id, status=f["status"], kind=f["kind"], direction=f["direction"],
                    severity=f["severity"], q=f["q"], limit=PAGE_SIZE, offset=self.offset)
        except Invalid as exc:
            self.message = exc.message
            return
        self.rows = [incident_row(IncidentPublic.of(r).model_dump()) for r in rows]

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """on_load: the tab and filters from the URL (`?tab=events&status=any&kind=scan&q=…&incident=ID`)."""
        params = self.router.url.query_parameters
        self.filters, refused = filters_from(params)
        # an event opened from an incident's list keeps the incidents tab; one on its own opens the events tab
        alone = bool(params.get("event")) and not params.get("incident")
        self.tab = "events" if params.get("tab") == "events" or alone else "incidents"
        selected = params.get("incident", "").strip()
        self.selected = selected if selected.isdigit() else ""
        if selected and not selected.isdigit():
            refused.append(f"incident {selected[:40]!r} not found: an incident link ends in its number (?incident=12)")
        self.offset = 0
        self.message = "Ignored from the link: " + "; ".join(refused) + "." if refused else ""
        await self._query()

    @rx.event
    @guarded("viewer")
    async def apply_filters(self, form: dict[str, Any]) -> EventSpec:
        """Filters from the form (Enter submits); back to the first page."""
        self.filters, refused = filters_from({k: str(v) for k, v in form.items()})
        self.offset, self.ticked, self.all_matching = 0, [], False
        self.message = "; ".join(refused)
        await self._query()
        return self._share()

    @rx.event
    @guarded("viewer")
    async def page(self, step: int) -> None:
        """Next (1) or previous (-1) page."""
        last = max(self.total - 1, 0) // PAGE_SIZE * PAGE_SIZE
        self.offset = max(0, min(self.offset + step * PAGE_SIZE, last))
        self.ticked = []
        await self._query()

    @rx.event
    @guarded("viewer")
    def set_tab(self, tab: str) -> EventSpec | None:
        """Incidents or the raw events."""
        if tab not in TABS:
            return None
        self.tab = tab
        return self._share()

    @rx.event
    @guarded("viewer")
    def toggle(self, incident_id: str) -> None:
        self.ticked, self.all_matching = bulk.toggled(self.ticked, incident_id), False

    @rx.event
    @guarded("viewer")
    def select_scope(self, scope: str) -> None:
        """"page" ticks (or unticks) every row shown; "matching" takes every incident matching the filters, on
        every page; "none" clears."""
        self.ticked, self.all_matching = bulk.scoped(scope, [r["id"] for r in self.rows], self.ticked)

    @rx.event
    @guarded("viewer")
    async def ask_bulk(self, status: str) -> None:
        """A bulk change starts with a confirmation naming how many incidents (counted now, for a filter-wide
        one)."""
        f = self._chosen()
        await bulk.ask(self, status, self.ticked, statuses=BULK_STATUSES, noun="incidents",
                       count_matching=lambda session: incident_bulk.count_matching(
                           session, tenant_id=self._tenant_id, status=f["status"], kind=f["kind"],
                           direction=f["direction"], severity=f["severity"], q=f["q"]))

    @rx.event
    @guarded("viewer")
    def cancel_bulk(self) -> None:
        self.pending_bulk = ""

    @rx.event
    @guarded("analyst")
    async def confirm_bulk(self) -> None:
        """Apply the confirmed status to the ticked incidents, or to every incident matching the filters that was
        counted in the confirmation; their events follow, each incident's change audited."""
        f = self._chosen()
        await bulk.confirm(
            self, "ticked", noun="incidents", statuses=BULK_STATUSES, reload=self._query,
            change_matching=lambda session, status: incident_bulk.set_status_matching(
                session, tenant_id=self._tenant_id, new_status=status, by=self.actor, upto_id=self._bulk_upto,
                status=f["status"], kind=f["kind"], direction=f["direction"], severity=f["severity"], q=f["q"]),
            change_ticked=lambda session, status: incident_bulk.set_status_many(
                session, tenant_id=self._tenant_id, incident_ids=[int(i) for i in self.ticked if i.isdigit()],
                status=status, by=self.actor))

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """Incidents changed (new ones, new events, another analyst's verdict): the page is read again, in rank
        order, so what is shown is what the table would show on a reload."""
        await self._query()
