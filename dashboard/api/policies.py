"""`/api/v1/policies`: generate, list, read, submit, approve, reject, impact preview, coverage.

Viewers read; analysts generate and submit; approvers and admins approve and reject. A role or
four-eyes violation answers 403, a transition from the wrong state 409, a missing reject reason
422. Another tenant's ids answer 404, exactly like ids that do not exist. (Downloads of YAML and
bundles live in `dashboard.api.policy_downloads`.)
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from dashboard.api.answers import JobQueued
from dashboard.api.deps import Caller, DbSession
from jobs.engines.policy.diff import diff_yaml
from jobs.tasks.policy import (
    MAX_IMPACT_SNAPSHOTS,
    MAX_UNION,
    announce_transition,
    audit_refusal,
    policy_impact,
    queue_generation,
)
from models.db import session_scope
from models.errors import Conflict, Forbidden, Invalid
from models.public.policy import CoveragePublic, ImpactPublic, PolicyDetailPublic, PolicyPublic
from models.queries import graph as graph_queries
from models.queries import policies as policy_queries
from models.queries import policy_windows

router = APIRouter(prefix="/policies")
VERBS = {"submitted": "submit", "approved": "approve", "rejected": "reject"}


class GenerateIn(BaseModel):
    snapshot_ids: list[int] = Field(default_factory=list, max_length=MAX_UNION)
    last: int | None = Field(default=None, ge=1, le=MAX_UNION)
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    source: str = Field(default=policy_windows.ANY_SOURCE, max_length=32)
    # one policy set per cluster of the windows' workloads, or only this one's (issue 19 A4)
    cluster: str | None = Field(default=None, max_length=64)


class ReasonIn(BaseModel):
    reason: str = Field(default="", max_length=policy_queries.MAX_REASON)


async def _check_period(session: DbSession, tenant_id: int, start: datetime, end: datetime, source: str) -> None:
    if end <= start:
        raise Invalid("the period's end must come after its start")
    rows = await policy_windows.period_windows(session, tenant_id=tenant_id, start=start, end=end, source=source,
                                               limit=MAX_UNION + 1)
    if not rows:
        raise Conflict("no ready snapshot starts in that period from that source: pick another")
    if len(rows) > MAX_UNION:
        raise Invalid(f"the period holds more than {MAX_UNION} windows: choose a shorter one")


@router.post("/generate", status_code=202)
async def generate(caller: Caller, session: DbSession, body: GenerateIn) -> JobQueued:
    """Queue generation from the given snapshots, or the windows starting in [`start`, `end`) from `source`
    (any: all), or the union of the newest `last` (default: the newest ready one).

    404 for a snapshot id that is not the tenant's, 409 when there is no ready snapshot to read, 422 for a
    period without both ends, ending before it starts, or longer than the limit, or a cluster not in the flows.
    """
    caller.require("analyst")
    if body.cluster is not None:
        known = await policy_windows.workload_clusters(session, tenant_id=caller.tenant_id)
        if body.cluster not in known:
            raise Invalid(f"unknown cluster {body.cluster!r}: the flows name only {', '.join(known)}")
    for snapshot_id in body.snapshot_ids:
        await graph_queries.get_snapshot(session, tenant_id=caller.tenant_id, snapshot_id=snapshot_id)
    if (body.start is None) != (body.end is None):
        raise Invalid("a period needs both start and end")
    if body.start is not None and body.end is not None and not body.snapshot_ids:
        await _check_period(session, caller.tenant_id, body.start, body.end, body.source)
    elif not await policy_queries.latest_snapshots(session, tenant_id=caller.tenant_id, limit=1):
        raise Conflict("there is no ready snapshot to generate policies from: ingest flows first")
    job_id = await queue_generation(tenant_id=caller.tenant_id, actor=caller.actor, snapshot_ids=body.snapshot_ids,
                                    last=body.last, start=body.start, end=body.end, source=body.source,
                                    cluster=body.cluster)
    return JobQueued(job_id=job_id)


@router.get("")
async def list_policies(
    caller: Caller, session: DbSession, status: str | None = None, namespace: str | None = None,
    text: str | None = None, cluster: str | None = None,
    limit: int = Query(100, ge=1, le=policy_queries.MAX_PAGE), offset: int = Query(0, ge=0),
) -> list[PolicyPublic]:
    """The tenant's policy versions (superseded ones only when `status=superseded`)."""
    caller.require("viewer")
    rows, _ = await policy_queries.list_policies(session, tenant_id=caller.tenant_id, status=status,
                                                 namespace=namespace, text=text, limit=limit, offset=offset,
                                                 cluster=cluster)
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
    try:
        async with session_scope() as session:
            row = await steps[action](session, tenant_id=caller.tenant_id, policy_id=policy_id, actor=caller.actor,
                                      role=caller.role, reason=reason)
    except Forbidden as exc:
        await audit_refusal(tenant_id=caller.tenant_id, policy_id=policy_id, actor=caller.actor,
                            action=VERBS[action], reason=exc.message)
        raise
    await announce_transition(tenant_id=caller.tenant_id, policy=row, action=action, actor=caller.actor)
    return PolicyPublic.of(row)


@router.post("/{policy_id}/submit")
async def submit(caller: Caller, policy_id: int, body: ReasonIn | None = None) -> PolicyPublic:
    """draft → pending (analyst or higher)."""
    return await _transition(caller, policy_id, "submitted", body.reason if body else "")


@router.post("/{policy_id}/approve")
async def approve(caller: Caller, policy_id: int, body: ReasonIn | None = None) -> PolicyPublic:
    """pending → approved (approver or admin, not the submitter); queues the pull request when GitOps is configured.

    A refused attempt (role, four eyes) is recorded in the audit log as `policy.approve.refused`.
    """
    return await _transition(caller, policy_id, "approved", body.reason if body else "")


@router.post("/{policy_id}/reject")
async def reject(caller: Caller, policy_id: int, body: ReasonIn) -> PolicyPublic:
    """pending → rejected (approver or admin), with a reason."""
    return await _transition(caller, policy_id, "rejected", body.reason)


@router.get("/{policy_id}/impact")
async def impact(
    caller: Caller, policy_id: int, snapshots: int = Query(24, ge=1, le=MAX_IMPACT_SNAPSHOTS)
) -> ImpactPublic:
    """The flows that approving this policy would block, over the newest N windows holding workloads of its
    namespace, with how many windows and flows were checked."""
    caller.require("viewer")
    return ImpactPublic.model_validate(
        await policy_impact(tenant_id=caller.tenant_id, policy_id=policy_id, snapshots=snapshots)
    )
