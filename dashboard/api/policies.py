"""`/api/v1/policies`: generate, list, read, submit, approve, reject, impact preview, coverage.

Viewers read; analysts generate and submit; approvers and admins approve and reject. A role or
four-eyes violation answers 403, a transition from the wrong state 409, a missing reject reason
422. Another tenant's ids answer 404, exactly like ids that do not exist. (Downloads of YAML and
bundles live in `dashboard.api.policy_downloads`.)
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dashboard.api.answers import JobQueued
from dashboard.api.deps import Caller, DbSession
from jobs.engines.policy.diff import diff_yaml
from jobs.tasks.policy import MAX_IMPACT_SNAPSHOTS, MAX_UNION, announce_transition, policy_impact, queue_generation
from models.db import session_scope
from models.errors import Conflict
from models.public.policy import CoveragePublic, ImpactPublic, PolicyDetailPublic, PolicyPublic
from models.queries import graph as graph_queries
from models.queries import policies as policy_queries

router = APIRouter(prefix="/policies")


class GenerateIn(BaseModel):
    snapshot_ids: list[int] = Field(default_factory=list, max_length=MAX_UNION)
    last: int | None = Field(default=None, ge=1, le=MAX_UNION)


class ReasonIn(BaseModel):
    reason: str = Field(default="", max_length=policy_queries.MAX_REASON)


@router.post("/generate", status_code=202)
async def generate(caller: Caller, session: DbSession, body: GenerateIn) -> JobQueued:
    """Queue generation from the given snapshots (default: the newest ready one; `last`: the union of the newest N).

    404 for a snapshot id that is not the tenant's, 409 when there is no ready snapshot at all.
    """
    caller.require("analyst")
    for snapshot_id in body.snapshot_ids:
        await graph_queries.get_snapshot(session, tenant_id=caller.tenant_id, snapshot_id=snapshot_id)
    if not await policy_queries.latest_snapshots(session, tenant_id=caller.tenant_id, limit=1):
        raise Conflict("there is no ready snapshot to generate policies from: ingest flows first")
    job_id = await queue_generation(tenant_id=caller.tenant_id, actor=caller.actor, snapshot_ids=body.snapshot_ids,
                                    last=body.last)
    return JobQueued(job_id=job_id)


@router.get("")
async def list_policies(
    caller: Caller, session: DbSession, status: str | None = None, namespace: str | None = None,
    text: str | None = None, limit: int = Query(100, ge=1, le=policy_queries.MAX_PAGE), offset: int = Query(0, ge=0),
) -> list[PolicyPublic]:
    """The tenant's policy versions (superseded ones only when `status=superseded`)."""
    caller.require("viewer")
    rows, _ = await policy_queries.list_policies(session, tenant_id=caller.tenant_id, status=status,
                                                 namespace=namespace, text=text, limit=limit, offset=offset)
    return [PolicyPublic.of(row) for row in rows]


@router.get("/coverage")
async def coverage(caller: Caller, session: DbSession) -> CoveragePublic:
    """Per namespace, the share of the newest snapshot's edges that approved or deployed policies govern."""
    caller.require("viewer")
    return CoveragePublic.model_validate(await policy_queries.policy_coverage(session, tenant_id=caller.tenant_id))


@router.get("/{policy_id}")
async def get_policy(caller: Caller, session: DbSession, policy_id: int) -> PolicyDetailPublic:
    """One policy version with its proof, reviews and the diff against the version in force."""
    caller.require("viewer")
    row = await policy_queries.get_policy(session, tenant_id=caller.tenant_id, policy_id=policy_id)
    approved = await policy_queries.approved_version(session, tenant_id=caller.tenant_id, policy=row)
    reviews = await policy_queries.list_reviews(session, tenant_id=caller.tenant_id, policy_id=policy_id)
    return PolicyDetailPublic.detail(row, approved=approved, reviews=reviews,
                                     diff=diff_yaml(approved.yaml if approved else None, row.yaml, name=row.name))


async def _transition(caller: Caller, policy_id: int, action: str, reason: str) -> PolicyPublic:
    steps = {"submitted": policy_queries.submit_policy, "approved": policy_queries.approve_policy,
             "rejected": policy_queries.reject_policy}
    # Committed before announcing: the GitOps job must find the approval.
    async with session_scope() as session:
        row = await steps[action](session, tenant_id=caller.tenant_id, policy_id=policy_id, actor=caller.actor,
                                  role=caller.role, reason=reason)
    await announce_transition(tenant_id=caller.tenant_id, policy=row, action=action, actor=caller.actor)
    return PolicyPublic.of(row)


@router.post("/{policy_id}/submit")
async def submit(caller: Caller, policy_id: int, body: ReasonIn | None = None) -> PolicyPublic:
    """draft → pending (analyst or higher)."""
    return await _transition(caller, policy_id, "submitted", body.reason if body else "")


@router.post("/{policy_id}/approve")
async def approve(caller: Caller, policy_id: int, body: ReasonIn | None = None) -> PolicyPublic:
    """pending → approved (approver or admin, not the submitter); queues the pull request."""
    return await _transition(caller, policy_id, "approved", body.reason if body else "")


@router.post("/{policy_id}/reject")
async def reject(caller: Caller, policy_id: int, body: ReasonIn) -> PolicyPublic:
    """pending → rejected (approver or admin), with a reason."""
    return await _transition(caller, policy_id, "rejected", body.reason)


@router.get("/{policy_id}/impact")
async def impact(
    caller: Caller, policy_id: int, snapshots: int = Query(24, ge=1, le=MAX_IMPACT_SNAPSHOTS)
) -> ImpactPublic:
    """The flows of the newest N snapshots that approving this policy would block, with counts."""
    caller.require("viewer")
    return ImpactPublic.model_validate(
        await policy_impact(tenant_id=caller.tenant_id, policy_id=policy_id, snapshots=snapshots)
    )
