"""Namespace modes (learn → monitor → enforce), readiness, and what an approver does with a violation.

A namespace without a `namespace_mode` row is in learn. The namespaces listed are those with policies and those
with a row. Readiness (the tenant's rule, `readiness_days` and `readiness_max_open`): the namespace has been in
monitor at least that many days and has at most that many open (unexplained) violations. Enforce is refused
(Conflict, with the reason) while the rule does not hold. Every mode change is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import DriftEvent
from models.errors import Conflict, Forbidden, Invalid, NotFound
from models.graph import Snapshot
from models.namespaces import DEFAULT_CLUSTER, NAMESPACE_MODES, NamespaceMode
from models.policy import Policy
from models.queries.audit import record_audit
from models.queries.policies import IN_FORCE
from models.tenancy import ROLE_RANK, TENANT_DEFAULTS, Tenant
from models.types import utcnow

OPEN = "open"
MAX_REASON = 1000
READINESS_WINDOWS = 24  # the "last N windows" of would-be-blocked flows
RESOLVED_BY = "monitor"  # who resolves a violation the policies now admit (jobs/tasks/monitor.py)


@dataclass(frozen=True)
class ReadinessRule:
    days: int
    max_open: int


@dataclass(frozen=True)
class NamespaceStatus:
    """One namespace's mode and readiness as the list shows it."""

    cluster: str
    namespace: str
    mode: str
    reason: str
    changed_by: str
    changed_at: datetime | None
    monitor_since: datetime | None
    days_in_monitor: float
    open_violations: int
    blocked_flows: int  # flows of the last READINESS_WINDOWS windows the policies would block
    windows: int
    ready: bool
    not_ready_because: str


def readiness_rule(tenant: Tenant) -> ReadinessRule:
    """The tenant's rule; a stored value out of range falls back to the default."""
    days = tenant.settings.get("readiness_days", TENANT_DEFAULTS["readiness_days"])
    most = tenant.settings.get("readiness_max_open", TENANT_DEFAULTS["readiness_max_open"])
    ok_days = isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= 90
    ok_most = isinstance(most, int) and not isinstance(most, bool) and 0 <= most <= 1000
    return ReadinessRule(
        days=days if ok_days else int(TENANT_DEFAULTS["readiness_days"]),
        max_open=most if ok_most else int(TENANT_DEFAULTS["readiness_max_open"]),
    )


def _why_not(mode: str, days: float, open_count: int, rule: ReadinessRule) -> str:
    if mode == "learn":
        return f"the namespace is in learn: monitor it for {rule.days} days first"
    if days < rule.days:
        return f"{days:.1f} of {rule.days} days in monitor"
    if open_count > rule.max_open:
        return f"{open_count} open violations (the rule allows {rule.max_open}): amend or confirm them"
    return ""


async def _rows(session: AsyncSession, tenant_id: int) -> dict[tuple[str, str], NamespaceMode]:
    query = select(NamespaceMode).where(NamespaceMode.tenant_id == tenant_id)
    return {(row.cluster, row.namespace): row for row in await session.exec(query)}


async def _violation_counts(
    session: AsyncSession, tenant_id: int
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int], int]:
    """Per policy (cluster, namespace): open violations, and the flows of the last windows' violations that the
    policies still deny (not those the monitor resolved after an amendment admitted them); and how many windows."""
    recent = select(Snapshot.id).where(Snapshot.tenant_id == tenant_id, Snapshot.status == "ready")
    window_ids = list(await session.exec(recent.order_by(col(Snapshot.window_start).desc()).limit(READINESS_WINDOWS)))
    query = (
        select(Policy.cluster, Policy.namespace, DriftEvent)
        .join(Policy, col(Policy.id) == col(DriftEvent.policy_id))
        .where(DriftEvent.tenant_id == tenant_id, Policy.tenant_id == tenant_id, DriftEvent.kind == "violation")
        .where((col(DriftEvent.status) == OPEN) | col(DriftEvent.snapshot_id).in_(window_ids))
    )
    opened: dict[tuple[str, str], int] = {}
    flows: dict[tuple[str, str], int] = {}
    for cluster, name, event in await session.exec(query):
        namespace = (cluster, name)
        if event.status == OPEN:
            opened[namespace] = opened.get(namespace, 0) + 1
        if event.snapshot_id in window_ids and (event.status, event.status_by) != ("resolved", RESOLVED_BY):
            flows[namespace] = flows.get(namespace, 0) + int((event.evidence or {}).get("flows", 0))
    return opened, flows, len(window_ids)


async def list_namespaces(session: AsyncSession, *, tenant_id: int, tenant: Tenant) -> list[NamespaceStatus]:
    """Every namespace with policies in force or a mode, with its readiness, by cluster and name."""
    rule, now = readiness_rule(tenant), utcnow()
    rows = await _rows(session, tenant_id)
    names = select(Policy.cluster, Policy.namespace).where(Policy.tenant_id == tenant_id,
                                                          col(Policy.status).in_(IN_FORCE))
    keys = set(rows) | {(cluster, ns) for cluster, ns in await session.exec(names.distinct())}
    opened, flows, windows = await _violation_counts(session, tenant_id)
    out = []
    for cluster, namespace in sorted(keys):
        row = rows.get((cluster, namespace))
        mode = row.mode if row else "learn"
        since = row.monitor_since if row and mode != "learn" else None
        days = (now - since).total_seconds() / 86400 if since else 0.0
        why = _why_not(mode, days, opened.get((cluster, namespace), 0), rule)
        out.append(
            NamespaceStatus(
                cluster=cluster,
                namespace=namespace,
                mode=mode,
                reason=row.reason if row else "",
                changed_by=row.changed_by if row else "",
                changed_at=row.changed_at if row else None,
                monitor_since=since,
                days_in_monitor=round(days, 2),
                open_violations=opened.get((cluster, namespace), 0),
                blocked_flows=flows.get((cluster, namespace), 0),
                windows=windows,
                ready=not why,
                not_ready_because=why,
            )
        )
    return out


async def monitored_namespaces(session: AsyncSession, *, tenant_id: int, cluster: str = DEFAULT_CLUSTER) -> list[str]:
    """The namespaces whose windows the monitor job evaluates: those in monitor or enforce."""
    query = select(NamespaceMode.namespace).where(
        NamespaceMode.tenant_id == tenant_id,
        NamespaceMode.cluster == cluster,
        col(NamespaceMode.mode).in_(("monitor", "enforce")),
    )
    return sorted(await session.exec(query))


def watched_label(cluster: str, namespace: str) -> str:
    """How a monitored namespace is named in the monitor's results: `namespace`, or `cluster/namespace` outside the
    cluster `default`."""
    return namespace if cluster == DEFAULT_CLUSTER else f"{cluster}/{namespace}"


async def monitored_by_cluster(session: AsyncSession, *, tenant_id: int) -> dict[str, list[str]]:
    """Per cluster, the namespaces in monitor or enforce (issue 19 A4: each cluster's are checked on its own)."""
    query = select(NamespaceMode.cluster, NamespaceMode.namespace).where(
        NamespaceMode.tenant_id == tenant_id, col(NamespaceMode.mode).in_(("monitor", "enforce"))
    )
    found: dict[str, list[str]] = {}
    for cluster, namespace in sorted(await session.exec(query)):
        found.setdefault(cluster, []).append(namespace)
    return found


async def monitor_fingerprints(session: AsyncSession) -> dict[int, tuple[int, str]]:
    """Every tenant with a namespace in monitor or enforce: its newest ready window and a fingerprint of what the
    monitor job's verdict on it depends on (the window, the monitored namespaces, the policy versions in force
    there). Cross-tenant by design: the scheduler's fan-out, which then works per tenant."""
    query = select(NamespaceMode.tenant_id, NamespaceMode.cluster, NamespaceMode.namespace).where(
        col(NamespaceMode.mode).in_(("monitor", "enforce"))
    )
    watched: dict[int, set[tuple[str, str]]] = {}
    for tenant_id, cluster, namespace in await session.exec(query):
        watched.setdefault(tenant_id, set()).add((cluster, namespace))
    out: dict[int, tuple[int, str]] = {}
    for tenant_id, pairs in watched.items():
        names = [watched_label(cluster, namespace) for cluster, namespace in pairs]
        newest = (
            await session.exec(
                select(Snapshot.id)
                .where(Snapshot.tenant_id == tenant_id, Snapshot.status == "ready")
                .order_by(col(Snapshot.window_start).desc())
                .limit(1)
            )
        ).first()
        if newest is None:
            continue
        policies = await session.exec(
            select(Policy.id, Policy.cluster, Policy.namespace).where(
                Policy.tenant_id == tenant_id,
                col(Policy.status).in_(IN_FORCE),
                col(Policy.namespace).in_([namespace for _, namespace in pairs]),
            )
        )
        ids = [pid for pid, cluster, namespace in policies if (cluster, namespace) in pairs]
        out[tenant_id] = (newest, fingerprint(newest, names, ids))
    return out


def fingerprint(snapshot_id: int, namespaces: Sequence[str], policy_ids: Sequence[int | None]) -> str:
    """What a monitor verdict on the newest window depends on, as one string."""
    return (
        f"{snapshot_id}|{','.join(sorted(namespaces))}|{','.join(str(i) for i in sorted(i or 0 for i in policy_ids))}"
    )


POLICY_SETTING_RANGES = {
    "readiness_days": (0, 90),
    "readiness_max_open": (0, 1000),
    "policy_min_observation_hours": (1, 24 * 90),
}


def check_policy_settings(values: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """Whole numbers within their ranges: (the good values, a problem per bad field)."""
    good: dict[str, int] = {}
    problems: dict[str, str] = {}
    for name, (low, high) in POLICY_SETTING_RANGES.items():
        text = str(values.get(name, "")).strip()
        if not text.isdigit() or not low <= int(text) <= high:
            problems[name] = f"a whole number from {low} to {high}, not {text or 'nothing'!r}"
        else:
            good[name] = int(text)
    return good, problems


async def set_policy_settings(
    session: AsyncSession, *, tenant_id: int, values: dict[str, int], actor: str
) -> tuple[dict[str, int], dict[str, int]]:
    """Store the readiness rule and the policies' minimum observation span (admin; audited). Returns before, after."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} not found")
    before = {name: int(tenant.settings.get(name, TENANT_DEFAULTS[name])) for name in POLICY_SETTING_RANGES}
    after = {**before, **{k: v for k, v in values.items() if k in POLICY_SETTING_RANGES}}
    if after != before:
        tenant.settings = {**tenant.settings, **after}
        session.add(tenant)
        await record_audit(
            session, tenant_id=tenant_id, actor=actor, action="tenant.policies", before=before, after=after
        )
    return before, after


def _check_mode_request(role: str, mode: str, reason: str) -> str:
    if ROLE_RANK.get(role, -1) < ROLE_RANK["approver"]:
        raise Forbidden("changing a namespace's mode needs role approver or higher")
    if mode not in NAMESPACE_MODES:
        raise Invalid(f"mode must be one of {', '.join(NAMESPACE_MODES)}, not {mode!r}")
    note = reason.strip()
    if not note:
        raise Invalid("say why the mode changes (reason)")
    if len(note) > MAX_REASON:
        raise Invalid(f"the reason is longer than {MAX_REASON} characters")
    return note


async def _write_mode(
    session: AsyncSession, tenant_id: int, key: tuple[str, str], current: str, mode: str, note: str, actor: str
) -> None:
    """Store the mode; entering monitor from learn starts the monitor clock, learn stops it."""
    cluster, namespace = key
    query = select(NamespaceMode).where(
        NamespaceMode.tenant_id == tenant_id, NamespaceMode.cluster == cluster, NamespaceMode.namespace == namespace
    )
    row = (await session.exec(query.with_for_update())).first() or NamespaceMode(
        tenant_id=tenant_id, cluster=cluster, namespace=namespace
    )
    now = utcnow()
    if mode == "learn":
        row.monitor_since = None
    elif mode == "monitor" and current == "learn":
        row.monitor_since = now
    row.mode, row.reason, row.changed_by, row.changed_at = mode, note, actor[:254], now
    session.add(row)


async def set_mode(
    session: AsyncSession,
    *,
    tenant_id: int,
    tenant: Tenant,
    cluster: str,
    namespace: str,
    mode: str,
    reason: str,
    actor: str,
    role: str,
    client_ip: str = "",
) -> NamespaceStatus:
    """Move a namespace to `mode` (approver); enforce only when ready (Conflict names why not). Audited."""
    note = _check_mode_request(role, mode, reason)
    statuses = {(s.cluster, s.namespace): s for s in await list_namespaces(session, tenant_id=tenant_id, tenant=tenant)}
    current = statuses.get((cluster, namespace))
    if current is None:
        raise NotFound(f"namespace {cluster}/{namespace} has no policies in force")
    if mode == "enforce" and current.mode != "enforce" and not current.ready:
        raise Conflict(f"{namespace} is not ready to enforce: {current.not_ready_because}")
    await _write_mode(session, tenant_id, (cluster, namespace), current.mode, mode, note, actor)
    before = {"mode": current.mode}
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="namespace.mode",
        target=f"namespace:{cluster}/{namespace}",
        before=before,
        after={"mode": mode, "reason": note},
        client_ip=client_ip,
    )
    await session.flush()
    return next(
        s
        for s in await list_namespaces(session, tenant_id=tenant_id, tenant=tenant)
        if (s.cluster, s.namespace) == (cluster, namespace)
    )
