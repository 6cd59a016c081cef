"""Queries for generated NetworkPolicies: listing, storing new versions, the review workflow, coverage.

Life cycle of one policy (a tenant's `namespace/name` in one cluster: issue 19 A4, single-cluster data is
in `default`), one row per version:

    draft ──submit──► pending ──approve──► approved ──(merged PR, GitOps)──► deployed
                         └──────reject───► rejected
    draft | pending ──(a newer version is generated)──► superseded
    approved        ──(a newer version is approved)───► superseded

Approval needs role approver or admin and, when the tenant's `four_eyes` setting is on (the
default), someone other than the submitter. "Someone" is a person: an API token acts for the person
who created it (its actor reads `token:<prefix> (<creator>)`), so submitting in the browser and
approving with one's own token is still one person. Every transition is audited with before and after.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import Conflict, Forbidden, Invalid, NotFound
from models.graph import Edge, Node, Snapshot
from models.namespaces import DEFAULT_CLUSTER
from models.policy import POLICY_STATUSES, Policy, PolicyReview
from models.queries.audit import record_audit
from models.queries.policy_windows import key_cluster, newest_workload_window
from models.tenancy import ROLE_RANK, TENANT_DEFAULTS, Tenant, person_of
from models.types import utcnow

MAX_PAGE = 500
MAX_REASON = 2000
IN_FORCE = ("approved", "deployed")
# A newer generated version replaces these; approved and deployed ones stay until a newer one is approved.
REPLACEABLE = ("draft", "pending")



@dataclass(frozen=True)
class PolicyDraft:
    """One generated policy as the generation job hands it over (plain values only)."""

    name: str
    namespace: str
    target: str
    yaml: str
    rules_sha256: str
    notes: list[str] = field(default_factory=list)
    verification: dict[str, Any] = field(default_factory=dict)
    cluster: str = DEFAULT_CLUSTER


@dataclass
class StoreOutcome:
    """What storing one generation run did."""

    created: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)


def policy_target(policy_id: int | None) -> str:
    """The audit target of a policy version."""
    return f"policy:{policy_id}"


def _choice(name: str, value: str | None, allowed: Sequence[str]) -> None:
    if value is not None and value not in allowed:
        raise Invalid(f"unknown {name} {value!r}: choose one of {', '.join(allowed)}")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def list_policies(
    session: AsyncSession, *, tenant_id: int, status: str | None = None, namespace: str | None = None,
    text: str | None = None, include_superseded: bool = False, limit: int = 50, offset: int = 0,
    cluster: str | None = None,
) -> tuple[list[Policy], int]:
    """One page of the tenant's policy versions (by namespace, name, newest version first) and the total.

    Superseded versions are left out unless asked for by `status` or `include_superseded`; `text`
    matches name, namespace or workload.
    """
    _choice("status", status, POLICY_STATUSES)
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise Invalid(f"limit must lie between 1 and {MAX_PAGE} and offset must not be negative")
    where: list[ColumnElement[bool]] = [col(Policy.tenant_id) == tenant_id]
    if status is not None:
        where.append(col(Policy.status) == status)
    elif not include_superseded:
        where.append(col(Policy.status) != "superseded")
    if namespace:
        where.append(col(Policy.namespace) == namespace)
    if cluster:
        where.append(col(Policy.cluster) == cluster)
    if text and text.strip():
        pattern = _like(text.strip()[:200])
        where.append(or_(*(col(c).ilike(pattern, escape="\\") for c in (Policy.name, Policy.namespace, Policy.target))))
    total = (await session.exec(select(func.count()).select_from(Policy).where(*where))).one()
    query = (select(Policy).where(*where)
             .order_by(col(Policy.cluster), col(Policy.namespace), col(Policy.name), col(Policy.version).desc())
             .limit(limit).offset(offset))
    return list(await session.exec(query)), int(total)


async def list_policy_namespaces(session: AsyncSession, *, tenant_id: int) -> list[str]:
    """The namespaces the tenant has policies in."""
    query = select(Policy.namespace).where(Policy.tenant_id == tenant_id).distinct().order_by(col(Policy.namespace))
    return list(await session.exec(query))


async def get_policy(session: AsyncSession, *, tenant_id: int, policy_id: int, lock: bool = False) -> Policy:
    """One of the tenant's policy versions."""
    query = select(Policy).where(Policy.tenant_id == tenant_id, Policy.id == policy_id)
    row = (await session.exec(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound(f"policy {policy_id} not found")
    return row


async def list_policy_clusters(session: AsyncSession, *, tenant_id: int) -> list[str]:
    """The clusters the tenant has policies in."""
    query = select(Policy.cluster).where(Policy.tenant_id == tenant_id).distinct().order_by(col(Policy.cluster))
    return list(await session.exec(query))


async def _versions(session: AsyncSession, tenant_id: int, cluster: str, namespace: str, name: str) -> list[Policy]:
    query = (select(Policy).where(Policy.tenant_id == tenant_id, Policy.cluster == cluster,
                                  Policy.namespace == namespace, Policy.name == name)
             .order_by(col(Policy.version).desc()).with_for_update())
    return list(await session.exec(query))


async def _set_status(
    session: AsyncSession, row: Policy, status: str, actor: str, action: str, extra: dict[str, Any] | None = None
) -> None:
    before = {"status": row.status, "version": row.version}
    row.status, row.updated_at = status, utcnow()
    session.add(row)
    await record_audit(session, tenant_id=row.tenant_id, actor=actor, action=action, target=policy_target(row.id),
                       before=before, after={"status": status, "version": row.version, **(extra or {})})


async def store_generated(
    session: AsyncSession, *, tenant_id: int, snapshot_ids: Sequence[int], drafts: Sequence[PolicyDraft], actor: str
) -> StoreOutcome:
    """Store a generation run: a new draft version per changed policy, older drafts and pending ones superseded.

    A policy whose rules equal those of its newest draft, pending, approved, deployed or rejected
    version is left alone (re-running the job, or regenerating unchanged traffic, adds nothing;
    a rejected proposal is not proposed again until the traffic changes).
    """
    outcome = StoreOutcome()
    for draft in drafts:
        versions = await _versions(session, tenant_id, draft.cluster, draft.namespace, draft.name)
        latest = next((v for v in versions if v.status != "superseded"), None)
        if latest is not None and latest.verification.get("rules_sha256") == draft.rules_sha256:
            outcome.unchanged.append(latest.id or 0)
            continue
        row = Policy(
            tenant_id=tenant_id, name=draft.name, namespace=draft.namespace, cluster=draft.cluster,
            target=draft.target[:300],
            yaml=draft.yaml, notes=list(draft.notes), snapshot_ids=list(snapshot_ids),
            verification={**draft.verification, "rules_sha256": draft.rules_sha256}, status="draft",
            version=(versions[0].version + 1) if versions else 1,
        )
        session.add(row)
        await session.flush()
        outcome.created.append(row.id or 0)
        for old in versions:
            if old.status in REPLACEABLE:
                await _set_status(session, old, "superseded", actor, "policy.supersede", {"by": row.id})
                outcome.superseded.append(old.id or 0)
        await record_audit(session, tenant_id=tenant_id, actor=actor, action="policy.generate",
                           target=policy_target(row.id), before={},
                           after={"status": "draft", "version": row.version, "snapshot_ids": list(snapshot_ids)})
    return outcome


def _require_role(role: str, needed: str) -> None:
    if ROLE_RANK.get(role, -1) < ROLE_RANK[needed]:
        raise Forbidden(f"this action needs role {needed} or higher")


def _require_status(row: Policy, wanted: str, action: str) -> None:
    if row.status != wanted:
        raise Conflict(f"policy {row.namespace}/{row.name} v{row.version} is {row.status}: only a {wanted} "
                       f"policy can be {action}")


async def submit_policy(session: AsyncSession, *, tenant_id: int, policy_id: int, actor: str, role: str,
                        reason: str = "") -> Policy:
    """draft → pending: ask for review (analyst or higher)."""
    _require_role(role, "analyst")
    row = await get_policy(session, tenant_id=tenant_id, policy_id=policy_id, lock=True)
    _require_status(row, "draft", "submitted")
    if row.verification.get("schema_errors"):
        raise Conflict("this policy is not valid Kubernetes (see its schema errors) and cannot be submitted")
    row.submitted_by = actor[:254]
    note = reason.strip()[:MAX_REASON]
    session.add(PolicyReview(tenant_id=tenant_id, policy_id=row.id or 0, reviewer=actor[:254], decision="submitted",
                             reason=note))
    await _set_status(session, row, "pending", actor, "policy.submit", {"reason": note} if note else None)
    return row


async def four_eyes(session: AsyncSession, *, tenant_id: int) -> bool:
    """The tenant's four-eyes setting (on unless turned off)."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return bool(tenant.settings.get("four_eyes", TENANT_DEFAULTS["four_eyes"]))


async def approve_policy(session: AsyncSession, *, tenant_id: int, policy_id: int, actor: str, role: str,
                         reason: str = "") -> Policy:
    """pending → approved (approver or admin; not the submitter under four eyes); the version it
    replaces becomes superseded."""
    _require_role(role, "approver")
    row = await get_policy(session, tenant_id=tenant_id, policy_id=policy_id, lock=True)
    _require_status(row, "pending", "approved")
    if await four_eyes(session, tenant_id=tenant_id) and person_of(row.submitted_by) == person_of(actor):
        raise Forbidden("four-eyes rule: you submitted this policy, so another approver must approve it")
    for old in await _versions(session, tenant_id, row.cluster, row.namespace, row.name):
        if old.id != row.id and old.status == "approved":
            await _set_status(session, old, "superseded", actor, "policy.supersede", {"by": row.id})
    note = reason.strip()[:MAX_REASON]
    session.add(PolicyReview(tenant_id=tenant_id, policy_id=row.id or 0, reviewer=actor[:254], decision="approved",
                             reason=note))
    await _set_status(session, row, "approved", actor, "policy.approve", {"reason": note} if note else None)
    return row


async def reject_policy(session: AsyncSession, *, tenant_id: int, policy_id: int, actor: str, role: str,
                        reason: str) -> Policy:
    """pending → rejected (approver or admin), with the reason the submitter will read."""
    _require_role(role, "approver")
    note = (reason or "").strip()[:MAX_REASON]
    if not note:
        raise Invalid("a reason is required to reject a policy")
    row = await get_policy(session, tenant_id=tenant_id, policy_id=policy_id, lock=True)
    _require_status(row, "pending", "rejected")
    session.add(PolicyReview(tenant_id=tenant_id, policy_id=row.id or 0, reviewer=actor[:254], decision="rejected",
                             reason=note))
    await _set_status(session, row, "rejected", actor, "policy.reject", {"reason": note})
    return row


async def list_reviews(session: AsyncSession, *, tenant_id: int, policy_id: int) -> list[PolicyReview]:
    """The submissions and decisions on one policy version, oldest first."""
    await get_policy(session, tenant_id=tenant_id, policy_id=policy_id)
    query = (select(PolicyReview).where(PolicyReview.tenant_id == tenant_id, PolicyReview.policy_id == policy_id)
             .order_by(col(PolicyReview.id)))
    return list(await session.exec(query))


async def in_force(session: AsyncSession, *, tenant_id: int) -> list[Policy]:
    """The newest approved or deployed version of each of the tenant's policies (per cluster)."""
    query = (select(Policy).where(Policy.tenant_id == tenant_id, col(Policy.status).in_(IN_FORCE))
             .order_by(col(Policy.cluster), col(Policy.namespace), col(Policy.name), col(Policy.version).desc()))
    newest: dict[tuple[str, str, str], Policy] = {}
    for row in await session.exec(query):
        newest.setdefault((row.cluster, row.namespace, row.name), row)
    return list(newest.values())


async def approved_version(session: AsyncSession, *, tenant_id: int, policy: Policy) -> Policy | None:
    """The version of the same policy in force now (what a review diffs against), if any other."""
    rows = await in_force(session, tenant_id=tenant_id)
    same = (policy.cluster, policy.namespace, policy.name)
    return next((r for r in rows if (r.cluster, r.namespace, r.name) == same and r.id != policy.id), None)


async def latest_snapshots(session: AsyncSession, *, tenant_id: int, limit: int) -> list[Snapshot]:
    """The tenant's newest ready snapshots, newest first."""
    query = (select(Snapshot).where(Snapshot.tenant_id == tenant_id, Snapshot.status == "ready")
             .order_by(col(Snapshot.window_start).desc()).limit(max(1, min(limit, 1000))))
    return list(await session.exec(query))


async def namespace_nodes(
    session: AsyncSession, *, tenant_id: int, snapshot_ids: Sequence[int], namespace: str
) -> list[Node]:
    """The workload nodes of one namespace in the given snapshots."""
    query = select(Node).where(Node.tenant_id == tenant_id, col(Node.snapshot_id).in_(list(snapshot_ids)),
                               Node.namespace == namespace, Node.kind == "workload")
    return list(await session.exec(query))


async def edges_touching(
    session: AsyncSession, *, tenant_id: int, snapshot_ids: Sequence[int], keys: Sequence[str]
) -> tuple[list[Node], list[Edge]]:
    """The edges of the snapshots with an endpoint in `keys`, and the nodes at their ends."""
    if not keys or not snapshot_ids:
        return [], []
    ids, wanted = list(snapshot_ids), list(keys)
    edges = list(await session.exec(select(Edge).where(
        Edge.tenant_id == tenant_id, col(Edge.snapshot_id).in_(ids),
        or_(col(Edge.src).in_(wanted), col(Edge.dst).in_(wanted))).order_by(col(Edge.id))))
    ends = sorted({key for edge in edges for key in (edge.src, edge.dst)})
    nodes = list(await session.exec(select(Node).where(
        Node.tenant_id == tenant_id, col(Node.snapshot_id).in_(ids), col(Node.key).in_(ends or [""]))))
    return nodes, edges


async def policy_coverage(session: AsyncSession, *, tenant_id: int) -> dict[str, Any]:
    """Per (cluster, namespace), the share of the newest workload-holding snapshot's edges that approved or
    deployed policies govern; `ready_snapshots` counts all ready ones (a Zeek or VPC window holds no workload).

    An edge counts in the (cluster, namespace) of each workload endpoint it has (a workload key names its
    cluster: `cluster/namespace/name` outside `default`, issue 19 A4); it is covered there when a policy in
    force selects one of its endpoints there (that policy's rules decide it). Rows come by cluster (`default`
    first) and namespace; single-cluster data gives the rows it gave before, each with cluster `default`.
    """
    ready = (await session.exec(select(func.count()).select_from(Snapshot).where(
        Snapshot.tenant_id == tenant_id, Snapshot.status == "ready"))).one()
    window = await newest_workload_window(session, tenant_id=tenant_id)
    if window is None:
        return {"snapshot_id": None, "window_start": None, "ready_snapshots": int(ready), "namespaces": [],
                "edges": 0, "covered": 0}
    sid = window.id or 0
    governed = {row.target for row in await in_force(session, tenant_id=tenant_id)}
    nodes = await session.exec(select(Node.key, Node.namespace).where(
        Node.tenant_id == tenant_id, Node.snapshot_id == sid, Node.kind == "workload"))
    place_of = {key: (key_cluster(key), namespace) for key, namespace in nodes if namespace}
    edges = await session.exec(select(Edge.src, Edge.dst).where(Edge.tenant_id == tenant_id, Edge.snapshot_id == sid))
    rows = _coverage_rows(place_of, governed, edges)
    return {"snapshot_id": sid, "window_start": window.window_start.isoformat(), "ready_snapshots": int(ready),
            "namespaces": rows, "edges": sum(r["edges"] for r in rows), "covered": sum(r["covered"] for r in rows)}


def _coverage_rows(place_of: dict[str, tuple[str, str]], governed: set[str],
                   edges: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for src, dst in edges:
        ends: dict[tuple[str, str], list[str]] = defaultdict(list)
        for key in {src, dst}:
            if key in place_of:
                ends[place_of[key]].append(key)
        for place, keys in ends.items():
            counts[place][0] += 1
            counts[place][1] += any(key in governed for key in keys)
    ordered = sorted(counts.items(), key=lambda item: (item[0][0] != DEFAULT_CLUSTER, item[0]))
    return [{"cluster": cluster, "namespace": ns, "edges": n, "covered": c,
             "percent": round(100 * c / n, 1) if n else 0.0} for (cluster, ns), (n, c) in ordered]
