"""What an analyst does with a violation (issue 19 Part B, item 2): amend its policy (a new draft version admitting
the flow, then the usual review → PR) or confirm it (keep the flow blocked: a true positive). Both audited."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import DriftEvent
from models.errors import Conflict, Forbidden, NotFound
from models.policy import Policy
from models.queries.audit import record_audit
from models.queries.drift import add_feedback, set_event_status
from models.queries.policies import PolicyDraft, get_policy, store_generated
from models.tenancy import ROLE_RANK


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
    return row
