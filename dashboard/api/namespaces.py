"""`/api/v1/namespaces` (modes and readiness) and `/api/v1/violations` (amend or confirm), issue 19 Part B.

Viewers read. Approvers (and admins) change a namespace's mode; enforce is refused with 409 and the reason while
the namespace is not ready under the tenant's rule. Analysts (and above) amend a violation (a new draft version of
its policy that admits the flow, then the usual review) or confirm it (keep it blocked: a true positive). Every
change is audited. Single-cluster data uses the cluster name `default`.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from dashboard.api.deps import Caller, DbSession, client_address
from jobs.tasks.monitor import amend_violation, queue_monitor
from models.public.drift import DriftEventPublic
from models.public.namespaces import NamespacePublic
from models.queries import namespaces as namespace_queries
from models.queries import tenancy
from models.queries import violations as violation_queries

router = APIRouter()


class ModeIn(BaseModel):
    mode: Literal["learn", "monitor", "enforce"]
    reason: str = Field(min_length=1, max_length=1000)


class ConfirmIn(BaseModel):
    note: str = Field(default="", max_length=2000)


class AmendOut(BaseModel):
    policy_id: int  # the new draft version; submit it for review as any other draft


@router.get("/namespaces")
async def list_namespaces(caller: Caller, session: DbSession) -> list[NamespacePublic]:
    """Every namespace with policies in force or a mode: its mode and readiness."""
    caller.require("viewer")
    tenant = await tenancy.get_tenant(session, tenant_id=caller.tenant_id)
    rule = namespace_queries.readiness_rule(tenant)
    rows = await namespace_queries.list_namespaces(session, tenant_id=caller.tenant_id, tenant=tenant)
    return [NamespacePublic.of(row, rule) for row in rows]


@router.put("/namespaces/{cluster}/{namespace}/mode")
async def set_mode(
    caller: Caller, session: DbSession, request: Request, cluster: str, namespace: str, body: ModeIn
) -> NamespacePublic:
    """Move a namespace to learn, monitor or enforce (approver, with a reason); 409 while enforce is not ready."""
    caller.require("approver")
    tenant = await tenancy.get_tenant(session, tenant_id=caller.tenant_id)
    status = await namespace_queries.set_mode(
        session,
        tenant_id=caller.tenant_id,
        tenant=tenant,
        cluster=cluster,
        namespace=namespace,
        mode=body.mode,
        reason=body.reason,
        actor=caller.actor,
        role=caller.role,
        client_ip=client_address(request),
    )
    await session.commit()
    if status.mode != "learn":
        await queue_monitor(tenant_id=caller.tenant_id, reason=f"{namespace} set to {status.mode}")
    return NamespacePublic.of(status, namespace_queries.readiness_rule(tenant))


@router.post("/violations/{event_id}/amend", status_code=201)
async def amend(caller: Caller, event_id: int) -> AmendOut:
    """A new draft version of the violation's policy that admits its flow."""
    caller.require("analyst")
    policy_id = await amend_violation(
        tenant_id=caller.tenant_id, event_id=event_id, actor=caller.actor, role=caller.role
    )
    return AmendOut(policy_id=policy_id)


@router.post("/violations/{event_id}/confirm")
async def confirm(caller: Caller, session: DbSession, event_id: int, body: ConfirmIn) -> DriftEventPublic:
    """Keep the flow blocked: the violation becomes a true positive (acknowledged)."""
    caller.require("analyst")
    row = await violation_queries.confirm_violation(
        session,
        tenant_id=caller.tenant_id,
        event_id=event_id,
        actor=caller.actor,
        role=caller.role,
        user_id=None,
        note=body.note,
    )
    return DriftEventPublic.of(row)
