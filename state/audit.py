"""The Audit log page (approvers and admins): filter, page through and export the tenant's audit entries."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from jobs.runtime.windows import BadRange, parse_moment
from models.db import session_scope
from models.ops import AuditLog
from models.queries import audit as audit_queries
from state.base import AppState, guarded

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 10_000
# Approvers review other people's work; the log of who did what is theirs to read too (admins included).
AUDIT_READ_ROLE = "approver"


def _changes(entry: AuditLog) -> str:
    parts = []
    for key in sorted(set(entry.before) | set(entry.after)):
        old, new = entry.before.get(key), entry.after.get(key)
        parts.append(f"{key}: {json.dumps(old)} → {json.dumps(new)}" if key in entry.before else
                     f"{key}: {json.dumps(new)}")
    return "; ".join(parts)


def audit_row(entry: AuditLog) -> dict[str, str]:
    """An entry as the table shows it (text only: the page renders it as text, never as markup)."""
    return {
        "id": str(entry.id), "when": entry.created_at.strftime("%Y-%m-%d %H:%M:%S"), "actor": entry.actor,
        "action": entry.action, "target": entry.target, "changes": _changes(entry), "ip": entry.client_ip,
    }


class AuditState(AppState):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    actions: list[str] = []
    filter_action: str = "all"
    filter_actor: str = ""
    filter_since: str = ""
    filter_until: str = ""
    filter_text: str = ""
    error: str = ""

    @rx.var
    def page_label(self) -> str:
        """"1–50 of 120"."""
        if not self.total:
            return "no entries"
        return f"{self.offset + 1}–{min(self.offset + PAGE_SIZE, self.total)} of {self.total}"

    def _where(self) -> audit_queries.AuditFilter:
        return audit_queries.AuditFilter(
            action=None if self.filter_action == "all" else self.filter_action, actor=self.filter_actor or None,
            since=parse_moment(self.filter_since, "from") if self.filter_since else None,
            until=parse_moment(self.filter_until, "until") if self.filter_until else None,
            text=self.filter_text or None,
        )

    def _refuse(self, message: str) -> None:
        """The log has its own place for a refusal, and shows no rows with it."""
        self.rows, self.total, self.error = [], 0, message

    async def _query(self) -> None:
        tenant_id = self._tenant_id
        try:
            where = self._where()
        except BadRange as exc:
            self.error = str(exc)
            return
        async with session_scope() as session:
            self.total = await audit_queries.count_audit(session, tenant_id=tenant_id, where=where)
            entries = await audit_queries.list_audit(session, tenant_id=tenant_id, where=where, limit=PAGE_SIZE,
                                                     offset=self.offset)
            self.actions = ["all", *await audit_queries.list_audit_actions(session, tenant_id=tenant_id)]
        self.rows, self.error = [audit_row(e) for e in entries], ""

    @rx.event
    @guarded(AUDIT_READ_ROLE)
    async def load(self) -> None:
        """The newest entries."""
        self.offset = 0
        await self._query()

    @rx.event
    @guarded(AUDIT_READ_ROLE)
    async def apply_filters(self, form: dict[str, Any]) -> None:
        """Filter by action, actor, time range (ISO 8601 dates) and free text; back to the first page."""
        self.filter_action = str(form.get("action") or "all")
        self.filter_actor = str(form.get("actor", "")).strip()[:254]
        self.filter_since = str(form.get("since", "")).strip()
        self.filter_until = str(form.get("until", "")).strip()
        self.filter_text = str(form.get("text", "")).strip()[:200]
        self.offset = 0
        await self._query()

    @rx.event
    @guarded(AUDIT_READ_ROLE)
    async def clear_filters(self) -> None:
        """Show everything again."""
        self.filter_action, self.filter_actor, self.filter_since, self.filter_until, self.filter_text = (
            "all", "", "", "", "")
        self.offset = 0
        await self._query()

    @rx.event
    @guarded(AUDIT_READ_ROLE)
    async def page(self, step: int) -> None:
        """Next (+1) or previous (-1) page."""
        self.offset = max(0, min(self.offset + int(step) * PAGE_SIZE, max(self.total - 1, 0)))
        await self._query()

    @rx.event
    @guarded(AUDIT_READ_ROLE)
    async def export_csv(self) -> EventSpec | None:
        """Every entry matching the filters (up to EXPORT_MAX_ROWS) as a CSV download."""
        try:
            where = self._where()
        except BadRange as exc:
            self.error = str(exc)
            return None
        async with session_scope() as session:
            entries = await audit_queries.list_audit(session, tenant_id=self._tenant_id, where=where,
                                                     limit=EXPORT_MAX_ROWS)
        return rx.download(data=audit_queries.audit_csv(entries), filename="audit.csv")
