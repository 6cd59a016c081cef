"""The Integrations page (admins): a tenant's notification receivers, their Test button and their deliveries.

Handlers validate through the same queries as REST (`models.queries.notifications`), so the page and the API
refuse the same input with the same message. Secrets go in and never come back: rows show `secrets_set`.
"""

from __future__ import annotations

from typing import Any

import httpx
import reflex as rx

from jobs.engines.notify.routing import Route
from jobs.engines.notify.template import MAX_TEMPLATE, preview
from jobs.tasks.notify import drain_integration
from models.db import session_scope
from models.errors import Conflict, Invalid, NotFound
from models.notifications import INTEGRATION_KINDS
from models.public.notifications import DeliveryPublic, IntegrationPublic
from models.queries import notification_outbox as outbox
from models.queries import notifications as q
from state.base import AppState, guarded
from state.integration_edit import edit_fields, edit_values, routing_from_form

FIELDS = {
    "slack": ("url",),
    "webhook": ("url", "secret"),
    "splunk_hec": ("url", "token", "index", "sourcetype"),
    "jira": ("url", "email", "api_token", "project", "issue_type"),
    "syslog": ("host", "port", "transport"),
}
TEST_BUDGET_S = 10.0


def integration_row(item: IntegrationPublic) -> dict[str, str]:
    """An integration as the table shows it (where it sends, never a secret)."""
    config = item.config
    target = (
        f"{config.get('host')}:{config.get('port')} ({config.get('transport', 'tcp')})"
        if item.kind == "syslog"
        else str(config.get("url") or "webhook URL (secret)")
    )
    return {
        "id": str(item.id),
        "name": item.name,
        "kind": item.kind,
        "min_severity": item.min_severity,
        "target": target,
        "secrets": ", ".join(item.secrets_set) or "—",
        "enabled": "on" if item.enabled else "off",
    }


def delivery_row(item: DeliveryPublic) -> dict[str, str]:
    """A delivery as the table shows it."""
    return {
        "id": str(item.id),
        "kind": item.kind,
        "status": item.status,
        "attempts": str(item.attempts),
        "incident": str(item.incident_id or "—"),
        "error": item.last_error or "—",
        "latency": f"{item.latency_ms} ms" if item.latency_ms is not None else "—",
        "created": item.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "ref": item.external_ref or "",
    }


def config_of(kind: str, form: dict[str, Any]) -> dict[str, Any]:
    """The kind's config from the add form (empty fields left out; the port as a number)."""
    config: dict[str, Any] = {}
    for name in FIELDS.get(kind, ()):
        value = str(form.get(name, "")).strip()
        if value:
            config[name] = int(value) if name == "port" and value.isdigit() else value
    return config


class IntegrationsState(AppState):
    integrations: list[dict[str, str]] = []
    deliveries: list[dict[str, str]] = []
    selected: str = ""
    kind: str = "slack"
    message: str = ""
    is_error: bool = False
    pending_delete: str = ""
    template: str = ""
    # the Edit form: which integration, its kind's config inputs and its other values (never a secret)
    editing: str = ""
    edit_kind: str = ""
    edit_fields: list[dict[str, str]] = []
    edit_values: dict[str, str] = {}

    @rx.var
    def template_preview(self) -> str:
        """The add form's template rendered for a sample incident, or what is wrong with it."""
        if not self.template.strip():
            return ""
        try:
            return preview(self.template)
        except ValueError as exc:
            return f"⚠ {exc}"

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message, self.is_error = text, error

    async def _reload(self) -> None:
        async with session_scope() as session:
            rows = await q.list_integrations(session, tenant_id=self._tenant_id)
            self.integrations = [integration_row(q.public(row)) for row in rows]
            if self.selected and self.selected in {r["id"] for r in self.integrations}:
                found = await outbox.list_deliveries(
                    session, tenant_id=self._tenant_id, integration_id=int(self.selected), limit=50
                )
                self.deliveries = [delivery_row(DeliveryPublic.of(d)) for d in found]
            else:
                self.selected, self.deliveries = "", []

    @rx.event
    @guarded("admin")
    async def load(self) -> None:
        """The tenant's integrations, and the deliveries of the one selected."""
        await self._reload()

    @rx.event
    @guarded("admin")
    async def set_kind(self, kind: str) -> None:
        """Which kind the add form is for (its fields follow)."""
        if kind not in INTEGRATION_KINDS:
            self._say(f"Choose a kind: {', '.join(INTEGRATION_KINDS)}.", error=True)
            return
        self.kind = kind

    @rx.event
    @guarded("admin")
    async def set_template(self, template: str) -> None:
        """The template being written (the preview follows)."""
        self.template = template[:MAX_TEMPLATE]

    @rx.event
    @guarded("admin")
    async def add(self, form: dict[str, Any]) -> None:
        """Add an integration of the chosen kind."""
        try:
            quiet = {k: str(form.get(f"quiet_{k}", "")).strip() for k in ("start", "end")}
            routing = {"quiet_hours": quiet} if any(quiet.values()) else {}
            Route.from_config(routing, min_severity="info")
            template = str(form.get("template", "")).strip()
            if template:
                preview(template)  # refused here with its line and reason, as REST refuses it
            async with session_scope() as session:
                row, generated = await q.create_integration(
                    session,
                    tenant_id=self._tenant_id,
                    actor=self.actor,
                    kind=self.kind,
                    name=str(form.get("name", "")),
                    min_severity=str(form.get("min_severity", "high")),
                    config=config_of(self.kind, form),
                    routing=routing,
                    template=template,
                )
        except (Invalid, Conflict, ValueError) as exc:
            self._say(str(exc), error=True)
            return
        shown = f" Its signing secret, shown once: {generated}" if generated else ""
        self._say(f"Integration {row.name!r} added.{shown}")
        self.selected, self.template = str(row.id), ""
        await self._reload()

    @rx.event
    @guarded("admin")
    async def select(self, integration_id: str) -> None:
        """Show an integration's deliveries."""
        self.selected = integration_id
        await self._reload()

    @rx.event
    @guarded("admin")
    async def test(self, integration_id: str) -> None:
        """Send a test message now and show the delivery's outcome."""
        try:
            async with session_scope() as session:
                integration = await q.get_integration(
                    session, tenant_id=self._tenant_id, integration_id=int(integration_id)
                )
                await outbox.enqueue_test(session, tenant_id=self._tenant_id, integration=integration)
        except NotFound as exc:
            self._say(str(exc), error=True)
            return
        async with httpx.AsyncClient() as client:
            await drain_integration(
                client, tenant_id=self._tenant_id, integration_id=int(integration_id), budget_s=TEST_BUDGET_S
            )
        self.selected = integration_id
        await self._reload()
        latest = self.deliveries[0] if self.deliveries else {}
        if latest.get("status") == "sent":
            self._say(f"Test message sent to {integration.name!r} ({latest.get('latency')}).")
        else:
            self._say(
                f"Test message not sent ({latest.get('status', 'unknown')}): {latest.get('error', '')}", error=True
            )

    @rx.event
    @guarded("admin")
    async def ask_delete(self, integration_id: str) -> None:
        """Ask before deleting an integration and its delivery history."""
        self.pending_delete = integration_id

    @rx.event
    @guarded("admin")
    async def cancel_delete(self) -> None:
        """Keep the integration."""
        self.pending_delete = ""

    @rx.event
    @guarded("admin")
    async def confirm_delete(self) -> None:
        """Delete the integration asked about."""
        target, self.pending_delete = self.pending_delete, ""
        try:
            async with session_scope() as session:
                await q.delete_integration(
                    session, tenant_id=self._tenant_id, integration_id=int(target or 0), actor=self.actor
                )
        except NotFound as exc:
            self._say(str(exc), error=True)
            return
        self._say("Integration deleted, with its deliveries.")
        await self._reload()

    @rx.event
    @guarded("admin")
    async def start_edit(self, integration_id: str) -> None:
        """Open the Edit form filled with the integration's settings (secrets left empty: unchanged)."""
        try:
            async with session_scope() as session:
                row = await q.get_integration(session, tenant_id=self._tenant_id, integration_id=int(integration_id))
        except (NotFound, ValueError):
            self._say(f"integration {integration_id} not found", error=True)
            return
        item = q.public(row)
        self.editing, self.edit_kind = str(item.id), item.kind
        self.edit_fields, self.edit_values = edit_fields(item, FIELDS[item.kind]), edit_values(item)

    @rx.event
    @guarded("admin")
    async def cancel_edit(self) -> None:
        """Close the Edit form without saving."""
        self.editing = ""

    @rx.event
    @guarded("admin")
    async def save_edit(self, form: dict[str, Any]) -> None:
        """Save the Edit form through the same query as PATCH (audited); an empty secret keeps the stored one."""
        target = self.editing
        try:
            if not target.isdigit():
                raise NotFound("no integration is being edited")
            template = str(form.get("template", "")).strip()
            if template:
                preview(template)
            async with session_scope() as session:
                row = await q.get_integration(session, tenant_id=self._tenant_id, integration_id=int(target))
                routing = routing_from_form(row.routing, form)
                Route.from_config(routing, min_severity="info")
                changes = {
                    "name": str(form.get("name", "")), "min_severity": str(form.get("min_severity", "high")),
                    "enabled": str(form.get("enabled", "")) in ("on", "true", "1"), "routing": routing,
                    "template": template, "config": config_of(row.kind, form),
                }
                saved = await q.update_integration(session, tenant_id=self._tenant_id, integration_id=int(target),
                                                   actor=self.actor, changes=changes)
        except (Invalid, Conflict, NotFound, ValueError) as exc:
            self._say(str(exc), error=True)
            return
        self.editing = ""
        self._say(f"Integration {saved.name!r} saved.")
        await self._reload()
