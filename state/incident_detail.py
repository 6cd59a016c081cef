"""One incident on the Drift page: its summary, the statistics behind its score, its events (paged), and what an
analyst does with it (acknowledge, resolve, true or false positive with a note), with a confirmation for what
changes every one of its events or the ranking of incidents still to come."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from jobs.engines.drift.asn import owner_text
from jobs.stores.enrichment import attribution, enrichment_of
from models.db import session_scope
from models.errors import NotFound
from models.public.drift import DriftEventPublic
from models.public.incidents import IncidentPublic, incident_addresses
from models.queries import incidents as incident_queries
from state.base import AppState, guarded
from state.drift import event_row
from state.incidents import IncidentListState, changed_ids, incident_row
from state.live import listens_to

EVENTS_PAGE = 20
SHOWN_ITEMS = 12
# Asked for at once; the others open a confirmation first (they change every event of the incident, or the rank of
# incidents still to come).
AT_ONCE = ("acknowledged", "open")
CONFIRMED = ("resolved", "false_positive", "true_positive")
VERDICTS = ("false_positive", "true_positive")
LABELS = {"period_s": "period (s)", "ts_score": "timestamp regularity score", "size_score": "size regularity score",
          "histogram": "histogram score", "duration": "duration score", "score": "beacon score",
          "size_mode": "most common size (bytes)", "size_mode_share": "share of that size",
          "session_s": "session (s)", "session_bytes": "session bytes",
          "failure_median_bytes": "failed attempts' median bytes",
          "median_bytes": "median bytes", "day_attempts": "attempts that day"}
# Shown elsewhere in the detail (the summary, the ports and actors lists), or bookkeeping (a drift event's link).
SKIPPED = frozenset({"summary", "ports_by_count", "top_actors", "event_ref", "signature"})
SHOWN_OWNERS = 20
PEAK_LABEL = "risk (its peak, settling while weaker findings go on; before verdicts)"
# the text and link the enrichment data's licences ask for wherever its answers are shown
ATTRIBUTION_TEXT, ATTRIBUTION_LINK = attribution()


def fact_text(value: Any) -> str:
    """One statistic in words: numbers rounded, lists shortened with how many more there are."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {fact_text(v)}" for k, v in value.items())
    if isinstance(value, Sequence) and not isinstance(value, str):
        shown = "; ".join(fact_text(v) for v in value[:SHOWN_ITEMS])
        more = len(value) - SHOWN_ITEMS
        return f"{shown} … ({more:,} more)" if more > 0 else shown or "none"
    return "—" if value is None else str(value)


def fact_rows(facts: Mapping[str, Any] | None) -> list[list[str]]:
    """[label, value] per statistic that made the score, in the engine's order."""
    return [[LABELS.get(k, k.replace("_", " ")), fact_text(v)] for k, v in (facts or {}).items() if k not in SKIPPED]


def owner_rows(owners: Mapping[str, tuple[int | None, str | None, str | None]]) -> list[dict[str, str]]:
    """`{address, owner}` per enriched address ("AS14061 DigitalOcean (NL)"), by address, the first SHOWN_OWNERS
    and a last row saying how many more there are."""
    rows = [{"address": a, "owner": owner_text(*o)} for a, o in sorted(owners.items())]
    more = len(rows) - SHOWN_OWNERS
    return rows[:SHOWN_OWNERS] + ([{"address": f"+{more:,} more", "owner": ""}] if more > 0 else [])


def actor_rows(actors: Sequence[Any] | None) -> list[dict[str, str]]:
    """The heaviest actors as `{actor, attempts}` (the engine writes dicts; a [name, count] pair is read too)."""
    rows = []
    for actor in actors or ():
        name, count = (actor.get("actor"), actor.get("attempts")) if isinstance(actor, Mapping) else actor
        rows.append({"actor": str(name), "attempts": fact_text(count)})
    return rows


@listens_to("incident.changed")
class IncidentDetailState(AppState):
    incident: dict[str, str] = {}
    facts: list[list[str]] = []
    actors: list[dict[str, str]] = []
    ports: str = ""
    events: list[dict[str, str]] = []
    events_total: int = 0
    events_offset: int = 0
    # owners (ASN, organisation, country) of the incident's outside addresses, from ingest's enrichment
    owners: list[dict[str, str]] = []
    # The action waiting for the analyst's confirmation ("" when none).
    pending: str = ""
    notice: str = ""

    @rx.var
    def is_open(self) -> bool:
        return bool(self.incident)

    @rx.var
    def can_change(self) -> bool:
        return self.role in ("analyst", "approver", "admin")

    @rx.var
    def events_label(self) -> str:
        if not self.events_total:
            return "no events"
        last = min(self.events_offset + EVENTS_PAGE, self.events_total)
        return f"{self.events_offset + 1}–{last} of {self.events_total:,}"

    async def _read(self, incident_id: int) -> None:
        tenant_id = self._tenant_id
        try:
            async with session_scope() as session:
                row = await incident_queries.get_incident(session, tenant_id=tenant_id, incident_id=incident_id)
                events, self.events_total = await incident_queries.incident_events(
                    session, tenant_id=tenant_id, incident_id=incident_id, limit=EVENTS_PAGE, offset=self.events_offset)
        except NotFound as exc:
            self.incident, self.notice = {}, exc.message
            return
        public = IncidentPublic.of(row).model_dump()
        self.incident = incident_row(public)
        # the facts are the latest finding's; the score starts from the incident's risk (its peak, settling while
        # weaker findings go on: jobs.engines.detect.incidents), so that comes first
        self.facts = [[PEAK_LABEL, f"{public['peak_risk']}"], *fact_rows(public.get("facts"))]
        self.actors = actor_rows(public.get("top_actors"))
        # a pair's incident (a beacon) keeps no port tally: its service is its port
        ports = public.get("ports") or ([public["service"]] if public["service"] else [])
        self.ports = fact_text(ports) if ports else "—"
        self.events = [event_row(DriftEventPublic.of(e).model_dump()) for e in events]
        found = await asyncio.to_thread(enrichment_of, tenant_id=tenant_id, addresses=incident_addresses(row, events))
        self.owners = owner_rows(found)

    async def _select(self, incident_id: str) -> EventSpec:
        listing = await self.get_state(IncidentListState)
        listing.selected = incident_id if self.incident else ""
        return listing._share()

    @rx.event
    @guarded("viewer")
    async def open_from_url(self) -> None:
        """on_load: `?incident=ID` opens that incident (links from the Overview)."""
        incident_id = self.router.url.query_parameters.get("incident", "")
        self.incident, self.pending, self.notice, self.events_offset = {}, "", "", 0
        if incident_id.isdigit():
            await self._read(int(incident_id))

    @rx.event
    @guarded("viewer")
    async def open_incident(self, incident_id: str) -> EventSpec | None:
        """A row of the table: its detail, and its id in the address bar."""
        if not incident_id.isdigit():
            return None
        self.pending, self.notice, self.events_offset = "", "", 0
        await self._read(int(incident_id))
        return await self._select(incident_id)

    @rx.event
    @guarded("viewer")
    async def close(self) -> EventSpec:
        self.incident, self.pending, self.notice = {}, "", ""
        return await self._select("")

    @rx.event
    @guarded("viewer")
    async def events_page(self, step: int) -> None:
        """Next (1) or previous (-1) page of the incident's events."""
        last = max(self.events_total - 1, 0) // EVENTS_PAGE * EVENTS_PAGE
        self.events_offset = max(0, min(self.events_offset + step * EVENTS_PAGE, last))
        await self._read(int(self.incident["id"]))

    @rx.event
    @guarded("analyst")
    async def act(self, action: str) -> None:
        """Acknowledge or reopen at once; resolve and the verdicts ask first (`confirm`)."""
        if action in CONFIRMED:
            self.pending = action
        elif action in AT_ONCE:
            await self._apply(action, "")
        else:
            self.notice = f"unknown action {action!r}"

    @rx.event
    @guarded("viewer")
    def cancel(self) -> None:
        self.pending = ""

    @rx.event
    @guarded("analyst")
    async def confirm(self, form: dict[str, Any]) -> None:
        """The confirmed action, with the analyst's note for a verdict."""
        action, self.pending = self.pending, ""
        if action in CONFIRMED:
            await self._apply(action, str(form.get("note", "")).strip())

    async def _apply(self, action: str, note: str) -> None:
        incident_id = int(self.incident["id"])
        try:
            async with session_scope() as session:
                if action in VERDICTS:
                    await incident_queries.add_incident_feedback(
                        session, tenant_id=self._tenant_id, incident_id=incident_id, verdict=action, note=note[:2000],
                        user_id=self._user_id, actor=self.actor)
                else:
                    await incident_queries.set_incident_status(session, tenant_id=self._tenant_id,
                                                               incident_id=incident_id, status=action, by=self.actor)
        except (NotFound, ValueError) as exc:
            self.notice = getattr(exc, "message", str(exc))
            return
        await self._read(incident_id)
        await (await self.get_state(IncidentListState))._query()
        self.notice = DONE[action]

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """The open incident changed (new events, another analyst): read it again."""
        if self.incident and self.incident["id"] in changed_ids(event):
            await self._read(int(self.incident["id"]))


DONE = {"acknowledged": "Acknowledged: its events are acknowledged too.", "open": "Reopened.",
        "resolved": "Resolved: its events are resolved too.",
        "false_positive": "Recorded false positive: incidents like it found from now on rank lower.",
        "true_positive": "Recorded true positive: incidents like it found from now on rank higher."}
