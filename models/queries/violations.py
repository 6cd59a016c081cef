"""What an analyst does with a violation (issue 19 Part B, item 2): amend its policy (a new draft version admitting
the flow, then the usual review → PR) or confirm it (keep the flow blocked: a true positive). Both audited.

Violations fold into incidents (one per policy and day, `jobs.engines.detect.violation_findings`). Such an incident is
settled (`settle_violation_incidents`) when none of its violations is open any more: each was resolved by the monitor
(an approved version now admits the flow) or confirmed (kept blocked) or otherwise closed by an analyst. It is then
`resolved` by `monitor`, audited as `incident.status`; a later violation of the policy starts a new incident."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import DriftEvent
from models.errors import Conflict, Forbidden, NotFound
from models.incidents import Incident, IncidentEvent
from models.policy import Policy
from models.queries.audit import record_audit
from models.queries.drift import add_feedback, set_event_status
from models.queries.incidents import incident_target
from models.queries.policies import PolicyDraft, get_policy, store_generated
from models.tenancy import ROLE_RANK
from models.types import utcnow

SETTLED_BY = "monitor"
# statuses of a violation incident that settling may close (a suppressed one stays as the analyst left it)
_SETTLEABLE = ("open", "acknowledged")


async def violation_and_policy(session: AsyncSession, *, tenant_id: int, event_id: int) -> tuple[DriftEvent, Policy]:
    """A violation and the policy version it names (NotFound / Conflict when it is not a violation with one)."""
    row = (
        await session.exec(select(DriftEvent).where(DriftEvent.tenant_id == tenant_id, DriftEvent.id == event_id))
    ).first()
    if row is None:
        raise NotFound(f"drift event {event_id} not found")
    if row.kind != "violation" or row.policy_id is None:
        raise Conflict(f"drift event {event_id} is a {row.kind}, not a violation naming a policy")
    return row, await get_policy(session, tenant_id=tenant_id, policy_id=row.policy_id)


async def store_amendment(
    session: AsyncSession,
    *,
    tenant_id: int,
    event: DriftEvent,
    policy: Policy,
    yaml_text: str,
    rules_sha256: str,
    actor: str,
    role: str,
) -> int:
    """A new draft version of the violation's policy that admits its flow (then the usual review); audited."""
    if ROLE_RANK.get(role, -1) < ROLE_RANK["analyst"]:
        raise Forbidden("amending a policy needs role analyst or higher")
    note = f"amended to admit violation #{event.id}: {event.src} → {event.dst}:{event.dst_port}/{event.protocol}"
    draft = PolicyDraft(
        name=policy.name,
        namespace=policy.namespace,
        cluster=policy.cluster,
        target=policy.target,
        yaml=yaml_text,
        rules_sha256=rules_sha256,
        notes=[note, *policy.notes],
        verification={"amends": policy.id, "violation": event.id},
    )
    outcome = await store_generated(
        session, tenant_id=tenant_id, snapshot_ids=list(policy.snapshot_ids), drafts=[draft], actor=actor
    )
    if not outcome.created:
        raise Conflict(
            f"{policy.namespace}/{policy.name} already has a version with these rules (policy {outcome.unchanged[0]})"
        )
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="violation.amend",
        target=f"drift_event:{event.id}",
        before={"policy_id": policy.id},
        after={"policy_id": outcome.created[0]},
    )
    return outcome.created[0]


async def confirm_violation(
    session: AsyncSession,
    *,
    tenant_id: int,
    event_id: int,
    actor: str,
    role: str,
    user_id: int | None,
    note: str = "",
) -> DriftEvent:
    """Keep the flow blocked: the violation becomes a true positive and is acknowledged (explained); audited."""
    if ROLE_RANK.get(role, -1) < ROLE_RANK["analyst"]:
        raise Forbidden("confirming a violation needs role analyst or higher")
    event, _ = await violation_and_policy(session, tenant_id=tenant_id, event_id=event_id)
    await add_feedback(
        session,
        tenant_id=tenant_id,
        event_id=event_id,
        verdict="true_positive",
        actor=actor,
        user_id=user_id,
        note=note or "confirmed: keep it blocked",
    )
    (row,) = await set_event_status(
        session, tenant_id=tenant_id, event_ids=[event.id or 0], status="acknowledged", actor=actor
    )
    await settle_violation_incidents(session, tenant_id=tenant_id, event_ids=[event.id or 0])
    return row


async def settle_violation_incidents(
    session: AsyncSession, *, tenant_id: int, event_ids: Sequence[int], actor: str = SETTLED_BY
) -> list[int]:
    """The open or acknowledged violation incidents of these events that have no open violation left: `resolved`
    (by `actor`), audited. Returns their ids."""
    if not event_ids:
        return []
    linked = select(IncidentEvent.incident_id).where(
        IncidentEvent.tenant_id == tenant_id, col(IncidentEvent.event_id).in_(list(event_ids))
    )
    query = select(Incident).where(
        Incident.tenant_id == tenant_id,
        Incident.kind == "violation",
        col(Incident.status).in_(_SETTLEABLE),
        col(Incident.id).in_(linked),
    )
    settled = []
    for incident in list(await session.exec(query.with_for_update())):
        still_open = (
            select(func.count())
            .select_from(DriftEvent)
            .join(IncidentEvent, col(IncidentEvent.event_id) == col(DriftEvent.id))
            .where(IncidentEvent.tenant_id == tenant_id, IncidentEvent.incident_id == incident.id)
            .where(DriftEvent.tenant_id == tenant_id, DriftEvent.status == "open")
        )
        if int((await session.exec(still_open)).one()):
            continue
        before = incident.status
        incident.status, incident.status_by, incident.status_at = "resolved", actor[:254], utcnow()
        session.add(incident)
        await record_audit(
            session,
            tenant_id=tenant_id,
            actor=actor,
            action="incident.status",
            target=incident_target(incident.id),
            before={"status": before},
            after={"status": "resolved", "why": "no open violation left"},
        )
        settled.append(incident.id or 0)
    await session.flush()
    return settled


async def open_violation_windows(session: AsyncSession, *, tenant_id: int, namespace: str, limit: int) -> list[int]:
    """The snapshots (newest first, at most `limit`) holding open violations of the namespace's policies: the windows
    an approval there must re-evaluate so the violations it now admits resolve at once."""
    query = (
        select(DriftEvent.snapshot_id)
        .join(Policy, col(Policy.id) == col(DriftEvent.policy_id))
        .where(DriftEvent.tenant_id == tenant_id, Policy.tenant_id == tenant_id, Policy.namespace == namespace)
        .where(DriftEvent.kind == "violation", DriftEvent.status == "open")
        .group_by(col(DriftEvent.snapshot_id))
        .order_by(func.max(DriftEvent.window_start).desc())
        .limit(limit)
    )
    return [int(snapshot_id) for snapshot_id in await session.exec(query)]
