"""The `generate_policies` job: the windows a reviewer picked → proven least-privilege policies.

`generate_policies(tenant, snapshot_ids | last | start+end [, source, cluster])`: pick the ready windows
(ids; the newest N; or those starting in [start, end) from one source or any), read only those holding
workloads (a Zeek or VPC window holds none), generate + validate + verify one policy set per cluster of the
windows' workloads, or for the one `cluster` asked for (`jobs.engines.policy.clusters`: selectors never mix
clusters), store changed policies as new draft versions of their cluster, publish `policy.updated`:

    {"action": "generated", "created": [ids], "unchanged": n, "superseded": [ids], "policies": n,
     "skipped": [{"workload", "reason"}], "snapshot_ids": [...], "windows": n, "workload_windows": n,
     "no_workloads": bool, "exact": bool, "clusters": {cluster: {"policies", "exact"}}, ...}

Progress is reported while the windows load (the bulk of the time) and at each phase; a cancel from the
Policies or Jobs page aborts the run between windows (ARQ abort, `jobs.runtime.control.cancel_run`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jobs.engines.policy.clusters import generate_per_cluster, snapshot_clusters
from jobs.engines.policy.proof import ProvenSet
from jobs.engines.policy.union import Snapshot
from jobs.runtime.events import publish_event
from jobs.runtime.leases import lease
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import PermanentJobError, report_progress, tracked
from jobs.tasks.baseline import WindowLoader
from models.db import session_scope
from models.errors import Invalid, NotFound
from models.graph import Snapshot as SnapshotRow
from models.queries import graph as graph_queries
from models.queries import policies as policy_queries
from models.queries import policy_windows
from models.queries.policy_windows import ANY_SOURCE

MAX_UNION = 744  # a month of hourly windows
PROGRESS_STEPS = 20


def policy_lock_key(tenant_id: int) -> str:
    """Serialises generation runs of one tenant, so versions are numbered once each."""
    return f"sg:lock:policies:{tenant_id}"


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PermanentJobError(f"{text!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise PermanentJobError(f"{text!r} names no time zone")
    return moment


async def _snapshot_rows(tenant_id: int, params: dict[str, Any]) -> list[SnapshotRow]:
    async with session_scope() as session:
        if params.get("snapshot_ids"):
            try:
                return [
                    await graph_queries.get_snapshot(session, tenant_id=tenant_id, snapshot_id=int(sid))
                    for sid in dict.fromkeys(params["snapshot_ids"])
                ]
            except NotFound as exc:
                raise PermanentJobError(f"{exc.message}: choose ready snapshots of this tenant") from exc
        if params.get("start") and params.get("end"):
            try:
                rows = await policy_windows.period_windows(
                    session,
                    tenant_id=tenant_id,
                    start=_moment(params["start"]),
                    end=_moment(params["end"]),
                    source=params.get("source") or ANY_SOURCE,
                    limit=MAX_UNION + 1,
                )
            except Invalid as exc:
                raise PermanentJobError(exc.message) from exc
            if len(rows) > MAX_UNION:
                raise PermanentJobError(f"the period holds more than {MAX_UNION} windows: choose a shorter one")
            return rows
        last = max(1, min(int(params.get("last") or 1), MAX_UNION))
        return await graph_queries.list_snapshots(session, tenant_id=tenant_id, limit=last)


async def _load(ctx: dict[str, Any], tenant_id: int, rows: Sequence[SnapshotRow]) -> list[Snapshot]:
    """The windows holding workloads, loaded with progress from 5 % to 60 %."""
    async with session_scope() as session:
        holding = await policy_windows.windows_with_workloads(
            session, tenant_id=tenant_id, snapshot_ids=[row.id or 0 for row in rows]
        )
    wanted = [row for row in rows if (row.id or 0) in holding]
    loader = WindowLoader(tenant_id)
    loaded: list[Snapshot] = []
    step = max(1, len(wanted) // PROGRESS_STEPS)
    for index, row in enumerate(wanted, start=1):
        window = await loader.load(row)
        loaded.append((window.nodes, window.edges))
        if index % step == 0 or index == len(wanted):
            await report_progress(
                ctx,
                fraction=0.05 + 0.55 * index / len(wanted),
                message=f"read {index} of {len(wanted)} window(s) holding workloads",
            )
    return loaded


def _drafts(cluster: str, proven: ProvenSet) -> list[policy_queries.PolicyDraft]:
    return [
        policy_queries.PolicyDraft(
            cluster=cluster,
            name=p.name,
            namespace=p.namespace,
            target=p.workload,
            yaml=p.yaml,
            rules_sha256=p.rules_sha256,
            notes=p.notes,
            verification=p.verification,
        )
        for p in proven.policies
    ]


@tracked(timeout=900, max_tries=3)
async def generate_policies(
    ctx: dict[str, Any],
    *,
    tenant_id: int,
    snapshot_ids: list[int] | None = None,
    last: int | None = None,
    start: str | None = None,
    end: str | None = None,
    source: str | None = None,
    cluster: str | None = None,
    actor: str = "generator",
) -> dict[str, Any]:
    """Generate, prove and store least-privilege NetworkPolicies from the picked windows (default: the newest),
    one set per cluster (or only `cluster`'s)."""
    params = {"snapshot_ids": snapshot_ids, "last": last, "start": start, "end": end, "source": source}
    rows = await _snapshot_rows(tenant_id, params)
    if not rows:
        raise PermanentJobError("no ready snapshot in the chosen windows: pick another period or source")
    ids = sorted(row.id or 0 for row in rows)
    await report_progress(ctx, fraction=0.05, message=f"{len(rows)} window(s) chosen")
    snapshots = await _load(ctx, tenant_id, rows)
    found = snapshot_clusters(snapshots)
    if cluster is not None and snapshots and cluster not in found:
        held = ", ".join(found)
        raise PermanentJobError(f"no workload of cluster {cluster!r} in the chosen windows: they hold {held}")
    await report_progress(ctx, fraction=0.6, message=f"generating and proving from {len(snapshots)} window(s)")
    chosen = [cluster] if cluster is not None else found
    sets = await asyncio.to_thread(generate_per_cluster, snapshots, snapshot_ids=ids, clusters=chosen)
    proven = _combined(sets)
    await report_progress(ctx, fraction=0.9, message=f"storing {len(proven.policies)} policies")
    drafts = [draft for name, one in sets.items() for draft in _drafts(name, one)]
    async with lease(ctx["redis"], policy_lock_key(tenant_id)), session_scope() as session:
        outcome = await policy_queries.store_generated(
            session, tenant_id=tenant_id, snapshot_ids=ids, drafts=drafts, actor=actor
        )
    summary = {
        "action": "generated",
        "snapshot_ids": ids,
        "windows": len(rows),
        "workload_windows": len(snapshots),
        "no_workloads": not snapshots,
        "policies": len(proven.policies),
        "created": outcome.created,
        "unchanged": len(outcome.unchanged),
        "superseded": outcome.superseded,
        "exact": proven.exact,
        "allowed_not_observed": proven.allowed_not_observed,
        "observed_not_allowed": proven.observed_not_allowed,
        "skipped": [{"workload": s.workload, "reason": s.reason} for s in proven.skipped],
        "invalid": proven.invalid,
        "clusters": {name: {"policies": len(one.policies), "exact": one.exact} for name, one in sets.items()},
        "run": ctx.get("sg_job_run_id"),
    }
    await publish_event(ctx["redis"], tenant_id=tenant_id, kind="policy.updated", data=summary)
    return summary


def _combined(sets: dict[str, ProvenSet]) -> ProvenSet:
    """The per-cluster sets as one, for the run's summary (exact when every set is)."""
    parts = list(sets.values())
    return ProvenSet(
        policies=[p for one in parts for p in one.policies],
        skipped=[s for one in parts for s in one.skipped],
        exact=all(one.exact for one in parts),
        allowed_not_observed=sum(one.allowed_not_observed for one in parts),
        observed_not_allowed=sum(one.observed_not_allowed for one in parts),
        invalid=[i for one in parts for i in one.invalid],
    )


async def queue_generation(
    *,
    tenant_id: int,
    actor: str,
    snapshot_ids: Sequence[int] | None = None,
    last: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    source: str = ANY_SOURCE,
    cluster: str | None = None,
) -> int:
    """Queue `generate_policies` (one run per distinct input at a time); returns the job run id.

    Pass the snapshot ids, or a period (`start`, `end`, optionally one `source`), or `last` (the newest N);
    `cluster` limits the run to that cluster's policies (default: one set per cluster).
    """
    params: dict[str, Any] = {"actor": actor}
    if cluster is not None:
        params["cluster"] = cluster
    if snapshot_ids:
        params["snapshot_ids"] = sorted({int(s) for s in snapshot_ids})
        key = "ids-" + "-".join(str(s) for s in params["snapshot_ids"])[:200]
    elif start is not None and end is not None:
        if end <= start:
            raise Invalid("the period's end must come after its start")
        params.update(start=start.isoformat(), end=end.isoformat(), source=source)
        key = f"period-{params['start']}-{params['end']}-{source}"
    else:
        params["last"] = max(1, min(int(last or 1), MAX_UNION))
        key = f"last-{params['last']}"
    if cluster is not None:
        key = f"{key}-cluster-{cluster}"[:250]
    run = await enqueue_job("generate_policies", tenant_id=tenant_id, triggered_by=actor, params=params, key=key)
    return run.id or 0
