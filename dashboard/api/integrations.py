"""`/api/v1/integrations`: a tenant's notification receivers (admin), their test message and their deliveries.

POST body: `{"kind": "slack"|"jira"|"syslog"|"splunk_hec"|"webhook", "name", "min_severity", "config": {…},
"routing"?, "template"?, "enabled"?}` (config per kind in `models.queries.notifications`). PATCH takes any of those
but `kind`; a config secret left out or empty keeps the stored one. Answers carry `id` and `secrets_set`, never a
secret; a webhook created without a secret answers its generated `signing_secret` once.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from dashboard.api.deps import Caller, DbSession
from jobs.engines.notify.routing import Route
from jobs.engines.notify.template import preview
from jobs.tasks.notify import drain_integration
from models.db import session_scope
from models.errors import Invalid
from models.public.notifications import DeliveryPublic, IntegrationCreated, IntegrationPublic
from models.queries import notification_outbox as outbox
from models.queries import notifications as q

router = APIRouter(prefix="/integrations")
MAX_DELIVERIES = 500


class IntegrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    name: str
    min_severity: str = "high"
    config: dict[str, Any]
    routing: dict[str, Any] = {}
    template: str = ""
    enabled: bool = True


class IntegrationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    min_severity: str | None = None
    config: dict[str, Any] | None = None
    routing: dict[str, Any] | None = None
    template: str | None = None
    enabled: bool | None = None


def _check_template(template: str) -> None:
    """422 with the reason (line, unknown name, unsafe access) when the template would not render."""
    try:
        preview(template)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def _check_routing(routing: dict[str, Any]) -> None:
    """422 with the reason when the routing JSON would not load (min_severity is checked by the query)."""
    try:
        Route.from_config(routing, min_severity="info")
    except (ValueError, TypeError, AttributeError) as exc:
        raise Invalid(f"routing: {exc}") from None


@router.get("")
async def list_integrations(caller: Caller, session: DbSession) -> list[IntegrationPublic]:
    """The tenant's integrations by name."""
    caller.require("admin")
    return [q.public(row) for row in await q.list_integrations(session, tenant_id=caller.tenant_id)]


@router.post("", status_code=201)
async def create_integration(caller: Caller, session: DbSession, body: IntegrationIn) -> IntegrationCreated:
    """Add an integration (audited without its secrets)."""
    caller.require("admin")
    _check_routing(body.routing)
    _check_template(body.template)
    row, generated = await q.create_integration(
        session,
        tenant_id=caller.tenant_id,
        actor=caller.actor,
        kind=body.kind,
        name=body.name,
        min_severity=body.min_severity,
        config=body.config,
        routing=body.routing,
        template=body.template,
        enabled=body.enabled,
    )
    return IntegrationCreated(**q.public(row).model_dump(), signing_secret=generated)


@router.get("/{integration_id}")
async def read_integration(caller: Caller, session: DbSession, integration_id: int) -> IntegrationPublic:
    """One integration."""
    caller.require("admin")
    return q.public(await q.get_integration(session, tenant_id=caller.tenant_id, integration_id=integration_id))


@router.patch("/{integration_id}")
async def update_integration(
    caller: Caller, session: DbSession, integration_id: int, body: IntegrationPatch
) -> IntegrationPublic:
    """Change an integration (audited without its secrets)."""
    caller.require("admin")
    changes = body.model_dump(exclude_unset=True)
    if "routing" in changes:
        _check_routing(changes["routing"] or {})
    if changes.get("template"):
        _check_template(changes["template"])
    row = await q.update_integration(
        session, tenant_id=caller.tenant_id, integration_id=integration_id, actor=caller.actor, changes=changes
    )
    return q.public(row)


@router.delete("/{integration_id}", status_code=204)
async def delete_integration(caller: Caller, session: DbSession, integration_id: int) -> Response:
    """Remove an integration and its deliveries."""
    caller.require("admin")
    await q.delete_integration(session, tenant_id=caller.tenant_id, integration_id=integration_id, actor=caller.actor)
    return Response(status_code=204)


@router.post("/{integration_id}/test")
async def test_integration(caller: Caller, integration_id: int) -> DeliveryPublic:
    """Queue a test message and send it now; the answer is the delivery as it stands (sent, or pending with the
    receiver's answer and its next try, or failed with it)."""
    caller.require("admin")
    async with session_scope() as session:
        integration = await q.get_integration(session, tenant_id=caller.tenant_id, integration_id=integration_id)
        delivery = await outbox.enqueue_test(session, tenant_id=caller.tenant_id, integration=integration)
    async with httpx.AsyncClient() as client:
        await drain_integration(client, tenant_id=caller.tenant_id, integration_id=integration_id, budget_s=10.0)
    async with session_scope() as session:
        rows = await outbox.list_deliveries(
            session, tenant_id=caller.tenant_id, integration_id=integration_id, limit=MAX_DELIVERIES
        )
    return DeliveryPublic.of(next(row for row in rows if row.id == delivery.id))


@router.get("/{integration_id}/deliveries")
async def list_deliveries(
    caller: Caller, session: DbSession, integration_id: int, limit: int = 100
) -> list[DeliveryPublic]:
    """The integration's deliveries, newest first (status, attempts, last error, latency)."""
    caller.require("admin")
    if not 1 <= limit <= MAX_DELIVERIES:
        raise Invalid(f"limit must be 1–{MAX_DELIVERIES}")
    await q.get_integration(session, tenant_id=caller.tenant_id, integration_id=integration_id)
    rows = await outbox.list_deliveries(session, tenant_id=caller.tenant_id, integration_id=integration_id, limit=limit)
    return [DeliveryPublic.of(row) for row in rows]
