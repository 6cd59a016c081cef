"""Drain the notification outbox (issue 18): every couple of seconds, per tenant and integration, send what is
due, with routing, digests, the per-integration rate limit, and retries with backoff.

A try is counted and leased when claimed (`notification_outbox.claim_due`), routed (`notify_route.prepare`), then
sent and settled (`notify_send.Drain`): a worker killed mid-drain leaves its rows to come back after the lease,
each with its idempotency key (the webhook's `Idempotency-Key`; Jira finds the issue a lost answer made by its
label), so nothing is lost.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from jobs.tasks.notify_route import prepare
from jobs.tasks.notify_send import SEND_BUDGET_S, Drain
from models.db import session_scope
from models.queries import notification_outbox as outbox
from models.queries import notifications as integrations
from models.queries import tenancy
from models.types import utcnow


async def drain_integration(
    client: httpx.AsyncClient, *, tenant_id: int, integration_id: int, budget_s: float = SEND_BUDGET_S
) -> dict[str, int]:
    """Send one integration's due deliveries; counts by outcome."""
    deadline, now = time.monotonic() + budget_s, utcnow()
    async with session_scope() as session:
        integration = await integrations.get_integration(session, tenant_id=tenant_id, integration_id=integration_id)
        rows = await outbox.claim_due(session, tenant_id=tenant_id, integration_id=integration_id, now=now)
    if not rows:
        return {}
    ready, notices = await prepare(tenant_id, integration, rows, now)
    if not ready:
        return {"skipped": len(rows)}
    return await Drain(client, integration, ready, notices, tenant_id=tenant_id).run(deadline)


async def drain_tenant(client: httpx.AsyncClient, *, tenant_id: int) -> dict[str, int]:
    """Every integration of the tenant with something due, one after another, each its own rate."""
    async with session_scope() as session:
        due = await outbox.due_integration_ids(session, tenant_id=tenant_id, now=utcnow())
    totals: dict[str, int] = {}
    for integration_id in due:
        for key, value in (await drain_integration(client, tenant_id=tenant_id, integration_id=integration_id)).items():
            totals[key] = totals.get(key, 0) + value
    return totals


async def drain_notifications(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron entry (a system schedule, so it lists tenants): drain every tenant's outbox."""
    async with session_scope() as session:
        tenant_ids = await tenancy.list_tenant_ids(session)
    totals: dict[str, int] = {}
    async with httpx.AsyncClient() as client:
        for tenant_id in tenant_ids:
            for key, value in (await drain_tenant(client, tenant_id=tenant_id)).items():
                totals[key] = totals.get(key, 0) + value
    return totals
