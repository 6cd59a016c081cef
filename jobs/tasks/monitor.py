"""The `monitor_window` job (issue 19 Part B): a window's flows against the approved policies of monitored namespaces.

Queued after each snapshot build, after a namespace's mode changes and after a violation is amended (for the newest
window). Reads the namespaces in monitor or enforce, the newest approved or deployed version of their policies and
the window's nodes and edges; `jobs.engines.policy.monitor.evaluate_window` finds the flows those policies would
deny; each becomes a drift event of kind `violation`, origin `monitor`, naming the policy version (`policy_id`),
stored idempotently (`models.queries.drift_store` rule). A violation of this window that the policies now admit (an
amendment was approved) is marked `resolved` by `monitor` instead of vanishing.

New violations fold into incidents (`jobs.engines.detect.violation_findings`: one incident per policy and day) in the
events' own transaction under the incident lock, as drift's do, so the outbox notices follow; a violation incident
with no open violation left is resolved (`violations.settle_violation_incidents`), and `incident.changed` published.

Live event `violation.changed` on `sg:{tenant}:events` when the run inserted, updated or resolved any:
    {"snapshot_id", "window_start", "new": n, "resolved": n, "total": n, "namespaces": [...]}
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import yaml
from sqlmodel import col, select

from jobs.engines.detect.violation_findings import findings_of_violations
from jobs.engines.policy.compiled import compile_policy
from jobs.engines.policy.errors import PolicyError
from jobs.engines.policy.monitor import (
    Direction,
    MonitorResult,
    Violation,
    amend_manifest,
    evaluate_window,
    severity_of,
    violation_risk,
)
from jobs.engines.policy.union import placeholder_node
from jobs.engines.snapshot.types import NodeRecord, key_cluster
from jobs.runtime.events import publish_event
from jobs.runtime.home import home_of
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import tracked
from jobs.tasks.baseline import WindowLoader
from jobs.tasks.drift import job_snapshot
from jobs.tasks.incidents import Folded, announce, fold_findings, incident_lock
from models.db import session_scope
from models.drift import DriftEvent
from models.graph import Snapshot as SnapshotRow
from models.namespaces import DEFAULT_CLUSTER
from models.policy import Policy
from models.queries import drift_store, namespaces, violations
from models.queries import graph as graph_queries
from models.queries import policies as policy_queries
from models.queries.tenancy import get_tenant
from models.types import utcnow

ORIGIN = "monitor"
RESOLVED_BY = namespaces.RESOLVED_BY
FINGERPRINT_TTL = 7 * 86400
RECHECK_WINDOWS = 48  # windows with open violations re-evaluated after an approval (two days of hourly windows)


def manifest_of(policy: Policy) -> dict[str, Any]:
    """A stored policy's manifest (its YAML), with its namespace when the YAML has none."""
    loaded = yaml.safe_load(policy.yaml) or {}
    if not isinstance(loaded, dict):
        raise PolicyError(f"policy {policy.id} is not a mapping")
    metadata = loaded.setdefault("metadata", {})
    metadata.setdefault("namespace", policy.namespace)
    metadata.setdefault("name", policy.name)
    return loaded


def usable_manifests(policies: Sequence[Policy]) -> tuple[list[dict[str, Any]], list[str]]:
    """The policies' manifests the evaluator reads, and why each other one was left out (a named port, bad YAML):
    one unreadable policy must not stop the namespace's monitoring."""
    good: list[dict[str, Any]] = []
    bad: list[str] = []
    for policy in policies:
        try:
            manifest = manifest_of(policy)
            compile_policy(manifest)
        except (PolicyError, yaml.YAMLError) as exc:
            bad.append(f"{policy.namespace}/{policy.name} v{policy.version}: {exc}"[:300])
            continue
        good.append(manifest)
    return good, bad


def event_of(violation: Violation, policy_ids: dict[str, int]) -> dict[str, Any]:
    """A violation as `drift_store.replace_snapshot_events` takes it."""
    risk = violation_risk(violation)
    reason = {"code": "policy_denies", "detail": violation.missing, "policy": violation.policy}
    return {
        "signature": violation.signature,
        "kind": "violation",
        "src": violation.src,
        "dst": violation.dst,
        "dst_port": violation.dst_port,
        "protocol": violation.protocol,
        "severity": severity_of(risk),
        "risk": risk,
        "reasons": [reason],
        "explanation": violation.explanation,
        "status": "open",
        "policy_id": policy_ids.get(violation.policy),
        "evidence": {
            "direction": violation.direction,
            "namespace": violation.namespace,
            "flows": violation.flows,
            "bytes": violation.bytes,
            "policies": list(violation.policies),
            "missing": violation.missing,
        },
    }


async def _inputs(tenant_id: int, snapshot_id: int) -> tuple[SnapshotRow, dict[str, list[str]], list[Policy]]:
    """The window, the monitored namespaces per cluster, and the policies in force there."""
    async with session_scope() as session:
        row = await job_snapshot(session, tenant_id=tenant_id, snapshot_id=snapshot_id)
        watched = await namespaces.monitored_by_cluster(session, tenant_id=tenant_id)
        in_force = await policy_queries.in_force(session, tenant_id=tenant_id)
    return row, watched, [p for p in in_force if p.namespace in watched.get(p.cluster, ())]


def _evaluate(policies: list[Policy], window: Any, watched: dict[str, list[str]]) -> tuple[MonitorResult, list[str]]:
    """Each cluster's flows against its own policies and monitored namespaces (issue 19 A4), as one result."""
    results, unreadable = [], []
    for cluster, monitored in watched.items():
        manifests, bad = usable_manifests([p for p in policies if p.cluster == cluster])
        unreadable += bad
        results.append(evaluate_window(manifests, window.nodes, window.edges, monitored=monitored, cluster=cluster))
    violations = sorted((v for r in results for v in r.violations), key=lambda v: (-v.flows, -v.bytes, v.signature))
    evaluated = sum(r.evaluated for r in results)
    return MonitorResult(violations, evaluated, sum(r.allowed for r in results)), unreadable


async def _resolve_gone(tenant_id: int, snapshot_id: int, keep: set[str]) -> list[int]:
    """Open violations of the window the policies now admit: resolved by the monitor (kept as history); their ids."""
    async with session_scope() as session:
        query = select(DriftEvent).where(
            DriftEvent.tenant_id == tenant_id,
            DriftEvent.snapshot_id == snapshot_id,
            DriftEvent.origin == ORIGIN,
            DriftEvent.status == "open",
            col(DriftEvent.signature).not_in(keep) if keep else sa.true(),
        )
        rows = list(await session.exec(query.with_for_update()))
        for row in rows:
            row.status, row.status_by, row.status_at = "resolved", RESOLVED_BY, utcnow()
            session.add(row)
    return [row.id or 0 for row in rows]


async def _persist(
    ctx: dict[str, Any], row: SnapshotRow, events: list[dict[str, Any]], resolved: list[int]
) -> tuple[drift_store.EventChanges, Folded, list[int]]:
    """The violations, the new ones folded into incidents, and the incidents left without an open violation
    resolved, in one transaction under the incident lock (an event folds once)."""
    tenant_id, snapshot_id = row.tenant_id, row.id or 0
    async with incident_lock(ctx["redis"], tenant_id), session_scope() as session:
        home = home_of(await get_tenant(session, tenant_id=tenant_id))
        changes = await drift_store.replace_snapshot_events(
            session, tenant_id=tenant_id, snapshot_id=snapshot_id, window_start=row.window_start, events=events,
            origin=ORIGIN,
        )
        findings = findings_of_violations(changes.inserted, home=home, window_start=row.window_start.timestamp(),
                                          window_end=row.window_end.timestamp())
        folded = await fold_findings(session, tenant_id=tenant_id,
                                     findings=[(int(f.facts["event_ref"]), f) for f in findings])
        settled = await violations.settle_violation_incidents(session, tenant_id=tenant_id, event_ids=resolved)
    return changes, folded, settled


def _policy_ids(violation: Violation, policies: list[Policy]) -> dict[str, int]:
    """`ns/name` → id of the policies of the cluster the violation's denied side is in (its workload key tells)."""
    cluster = key_cluster(violation.dst if violation.direction == "ingress" else violation.src)
    return {f"{p.namespace}/{p.name}": p.id or 0 for p in policies if p.cluster == cluster}


@tracked(timeout=600, max_tries=3)
async def monitor_window(ctx: dict[str, Any], *, tenant_id: int, snapshot_id: int) -> dict[str, Any]:
    """Evaluate one window against the approved policies of the monitored namespaces; store the violations."""
    row, by_cluster, policies = await _inputs(tenant_id, snapshot_id)
    watched = sorted(namespaces.watched_label(c, ns) for c, names in by_cluster.items() for ns in names)
    if not watched:
        return {"snapshot_id": snapshot_id, "namespaces": [], "violations": 0, "skipped": "no namespace in monitor"}
    window = await WindowLoader(tenant_id).load(row)
    result, unreadable = await asyncio.to_thread(_evaluate, policies, window, by_cluster)
    events = [event_of(v, _policy_ids(v, policies)) for v in result.violations]
    gone = await _resolve_gone(tenant_id, snapshot_id, {e["signature"] for e in events})
    changes, folded, settled = await _persist(ctx, row, events, gone)
    resolved = len(gone)
    await _remember(ctx, tenant_id, snapshot_id, watched, policies)
    if settled:
        folded = Folded(new=folded.new, updated=tuple(sorted({*folded.updated, *settled})), linked=folded.linked)
    await announce(ctx["redis"], tenant_id=tenant_id, folded=folded, origin="monitor", snapshot_id=snapshot_id)
    if changes.inserted or changes.updated or resolved:
        data = {
            "snapshot_id": snapshot_id,
            "window_start": row.window_start.isoformat(),
            "resolved": resolved,
            "new": len(changes.inserted),
            "total": len(events),
            "namespaces": watched,
        }
        await publish_event(ctx["redis"], tenant_id=tenant_id, kind="violation.changed", data=data)
    return {
        "snapshot_id": snapshot_id,
        "namespaces": watched,
        "policies": len(policies),
        "evaluated": result.evaluated,
        "violations": len(events),
        "new": len(changes.inserted),
        "resolved": resolved,
        "incidents_new": len(folded.new),
        "incidents_updated": len(folded.updated),
        "incidents_resolved": len(settled),
        "unreadable": unreadable,
    }


def fingerprint_key(tenant_id: int) -> str:
    return f"sg:{tenant_id}:monitor:fingerprint"


async def _remember(
    ctx: dict[str, Any], tenant_id: int, snapshot_id: int, watched: list[str], policies: list[Policy]
) -> None:
    """After evaluating the newest window: what the verdict depended on, so the scheduler skips it until it changes."""
    async with session_scope() as session:
        newest = await policy_queries.latest_snapshots(session, tenant_id=tenant_id, limit=1)
    if newest and newest[0].id == snapshot_id:
        value = namespaces.fingerprint(snapshot_id, watched, [p.id for p in policies])
        await ctx["redis"].set(fingerprint_key(tenant_id), value, ex=FINGERPRINT_TTL)


async def schedule_monitor(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron, every 15 s: queue `monitor_window` on the newest window of each tenant in monitor whose window, monitored
    namespaces or policies in force there changed since the last evaluation (an approval, a new window)."""
    async with session_scope() as session:
        states = await namespaces.monitor_fingerprints(session)
    queued = 0
    for tenant_id, (snapshot_id, value) in states.items():
        stored = await ctx["redis"].get(fingerprint_key(tenant_id))
        if stored is not None and (stored.decode() if isinstance(stored, bytes) else stored) == value:
            continue
        await queue_monitor(tenant_id=tenant_id, snapshot_id=snapshot_id, reason="schedule: policies or window changed")
        # remembered at once: a run that fails is not queued again every 15 s, only when something changes
        await ctx["redis"].set(fingerprint_key(tenant_id), value, ex=FINGERPRINT_TTL)
        queued += 1
    return {"tenants": len(states), "queued": queued}


async def queue_monitor(*, tenant_id: int, snapshot_id: int | None = None, reason: str) -> int | None:
    """Queue `monitor_window` for a snapshot (default: the newest ready one); None when there is none."""
    if snapshot_id is None:
        async with session_scope() as session:
            newest = await policy_queries.latest_snapshots(session, tenant_id=tenant_id, limit=1)
        if not newest:
            return None
        snapshot_id = newest[0].id or 0
    run = await enqueue_job(
        "monitor_window",
        tenant_id=tenant_id,
        triggered_by=reason[:200],
        params={"snapshot_id": snapshot_id},
        key=str(snapshot_id),
        rerun_if_running=True,
    )
    return run.id


async def recheck_after_approval(
    *, tenant_id: int, namespace: str, actor: str, cluster: str = DEFAULT_CLUSTER
) -> list[int]:
    """After a policy of `namespace` is approved: when the namespace is monitored, queue `monitor_window` on the newest
    window and on each window holding an open violation of its policies (at most RECHECK_WINDOWS), so a violation
    the approved version admits resolves within seconds, not at the next scheduled run. Returns the queued runs."""
    async with session_scope() as session:
        if namespace not in await namespaces.monitored_namespaces(session, tenant_id=tenant_id, cluster=cluster):
            return []
        held = await violations.open_violation_windows(
            session, tenant_id=tenant_id, namespace=namespace, limit=RECHECK_WINDOWS
        )
    reason = f"approval in {namespace} by {actor}"
    runs = [await queue_monitor(tenant_id=tenant_id, reason=reason)]
    runs += [await queue_monitor(tenant_id=tenant_id, snapshot_id=sid, reason=reason) for sid in held]
    return [run for run in dict.fromkeys(runs) if run is not None]


def amended_yaml(policy: Policy, event: DriftEvent, nodes: Sequence[NodeRecord]) -> tuple[str, str]:
    """The YAML of the policy amended to admit the violation's flow, and its rules fingerprint."""
    direction: Direction = "egress" if (event.evidence or {}).get("direction") == "egress" else "ingress"
    peer_key = event.dst if direction == "egress" else event.src
    peer = next((n for n in nodes if n.key == peer_key), None) or placeholder_node(peer_key)
    amended = amend_manifest(
        manifest_of(policy), direction=direction, peer=peer, port=event.dst_port, protocol=event.protocol
    )
    text = yaml.safe_dump(amended, sort_keys=False)
    return text, hashlib.sha256(json.dumps(amended, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


async def amend_violation(*, tenant_id: int, event_id: int, actor: str, role: str) -> int:
    """Amend: a new draft version of the violation's policy admitting its flow (then the usual review → PR).
    Returns the new policy's id; the violation stays open until an approved version admits the flow."""
    async with session_scope() as session:
        event, policy = await violations.violation_and_policy(session, tenant_id=tenant_id, event_id=event_id)
        row = await graph_queries.get_snapshot(session, tenant_id=tenant_id, snapshot_id=event.snapshot_id)
    window = await WindowLoader(tenant_id).load(row)
    text, fingerprint = amended_yaml(policy, event, window.nodes)
    async with session_scope() as session:
        event, policy = await violations.violation_and_policy(session, tenant_id=tenant_id, event_id=event_id)
        return await violations.store_amendment(
            session,
            tenant_id=tenant_id,
            event=event,
            policy=policy,
            yaml_text=text,
            rules_sha256=fingerprint,
            actor=actor,
            role=role,
        )
