"""Tenant wall: tenant B (API token and UI state, as admin, the strongest role) tries every REST route and
every Reflex event handler with tenant A's ids, and gets nothing of A's, and changes nothing of A's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select

from models.db import session_scope
from models.drift import DriftEvent, Feedback, Whitelist
from models.incidents import Incident, IncidentFeedback
from models.notifications import Integration, NotificationDelivery
from models.ops import AuditLog, JobRun
from models.queries import tenancy
from models.tenancy import ApiToken, Tenant
from tests.security.access_matrix import REST, STATE
from tests.security.conftest import MARKER, Seeded, call_handler, fill, our_state_handlers
from tests.security.rest import openapi_operations, request_for

pytestmark = pytest.mark.integration


async def _footprint(tenant_id: int) -> dict[str, Any]:
    """Everything of a tenant a cross-tenant write could change."""
    async with session_scope() as session:
        def count(table: Any) -> Any:
            return select(func.count()).select_from(table).where(col(table.tenant_id) == tenant_id)

        return {
            "events": sorted((e.id, e.status) for e in await session.exec(
                select(DriftEvent).where(DriftEvent.tenant_id == tenant_id))),
            "feedback": (await session.exec(count(Feedback))).one(),
            "incidents": sorted((i.id, i.status) for i in await session.exec(
                select(Incident).where(Incident.tenant_id == tenant_id))),
            "incident_feedback": (await session.exec(count(IncidentFeedback))).one(),
            "whitelist": (await session.exec(count(Whitelist))).one(),
            "jobs": (await session.exec(count(JobRun))).one(),
            "tokens": sorted((t.id, t.revoked_at is None) for t in await session.exec(
                select(ApiToken).where(ApiToken.tenant_id == tenant_id))),
            "users": sorted((u.id, u.role, u.disabled) for u in await tenancy.list_users(session, tenant_id=tenant_id)),
            "settings": (await session.get(Tenant, tenant_id)).settings,  # type: ignore[union-attr]
            "audit": (await session.exec(count(AuditLog))).one(),
            "integrations": sorted((i.id, i.name, i.min_severity, i.enabled) for i in await session.exec(
                select(Integration).where(Integration.tenant_id == tenant_id))),
            "deliveries": (await session.exec(count(NotificationDelivery))).one(),
        }


async def test_rest_routes_answer_tenant_b_nothing_of_tenant_a(
    two_tenants: tuple[Seeded, Seeded], api_client: httpx.AsyncClient
) -> None:
    alpha, bravo = two_tenants
    before = await _footprint(alpha.tenant_id)
    leaks: list[str] = []
    for method, path, operation in openapi_operations():
        rule = REST.get((method, path))
        if rule is None or rule.role == "public":
            continue
        request = request_for(method, path, operation, rule, alpha.ids, token=bravo.tokens["admin"])
        response = await api_client.request(**request)
        if MARKER in response.text:
            leaks.append(f"{method} {request['url']}: {response.status_code} shows tenant A's data")
        if "{" in path and response.status_code < 400:
            leaks.append(f"{method} {request['url']}: {response.status_code} for tenant A's id (expected 404)")
    assert not leaks, "\n".join(leaks)
    assert await _footprint(alpha.tenant_id) == before


async def test_rest_routes_do_answer_the_owner(two_tenants: tuple[Seeded, Seeded],
                                               api_client: httpx.AsyncClient) -> None:
    """The wall test above could pass on a broken API that answers nobody: A itself sees its data."""
    alpha, _ = two_tenants
    headers = {"Authorization": f"Bearer {alpha.tokens['admin']}"}
    for url in (f"/api/v1/drift-events/{alpha.ids['event']}", f"/api/v1/incidents/{alpha.ids['incident']}",
                "/api/v1/incidents", f"/api/v1/drift-events?incident_id={alpha.ids['incident']}", f"/api/v1/snapshots/{alpha.ids['snapshot']}/graph",
                f"/api/v1/uploads/{alpha.ids['upload']}", "/api/v1/whitelist", "/api/v1/users", "/api/v1/audit",
                f"/api/v1/policies/{alpha.ids['policy']}/download", "/api/v1/policies/bundle/approved"):
        response = await api_client.get(url, headers=headers)
        assert response.status_code == 200 and MARKER in response.text, url


async def test_state_handlers_show_tenant_b_nothing_of_tenant_a(
    two_tenants: tuple[Seeded, Seeded], require_spy: list[tuple[str, bool]]
) -> None:
    alpha, bravo = two_tenants
    before = await _footprint(alpha.tenant_id)
    leaks: list[str] = []
    for cls, name in our_state_handlers():
        rule = STATE.get(f"{cls.__name__}.{name}")
        if rule is None or rule.role == "session":
            continue
        call = await call_handler(cls, name, fill(rule.args, alpha.ids), fill(rule.prep, alpha.ids), tenant=bravo,
                                  role="admin", spy=require_spy)
        shown = call.dump() + repr(call.result)
        # The prepared ids themselves are not A's data; A's names, emails, reasons and files are.
        if MARKER in shown:
            leaks.append(f"{cls.__name__}.{name} shows tenant A's data")
    assert not leaks, "\n".join(leaks)
    assert await _footprint(alpha.tenant_id) == before


async def test_state_handlers_do_show_the_owner(two_tenants: tuple[Seeded, Seeded],
                                                require_spy: list[tuple[str, bool]]) -> None:
    """The same calls as tenant A's admin do reach A's data, so the wall test is not vacuous."""
    alpha, _ = two_tenants
    seen = []
    for key in ("DriftDetailState.open_event", "UsersState.load", "AuditState.load", "SourcesState.load",
                "TokensState.load_tokens", "GraphState.load", "JobsControlState.open_run"):
        cls = next(c for c, n in our_state_handlers() if f"{c.__name__}.{n}" == key)
        rule = STATE[key]
        call = await call_handler(cls, key.split(".")[1], fill(rule.args, alpha.ids), fill(rule.prep, alpha.ids),
                                  tenant=alpha, role="admin", spy=require_spy)
        seen.append((key, MARKER in call.dump()))
    assert all(found for _, found in seen), seen
