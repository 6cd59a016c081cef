"""The `generate_policies` job, and what the review workflow runs around its transitions.

`generate_policies(tenant, snapshot_ids | last)`: load the snapshots (engine sidecars, or their
rows), generate + validate + verify (`jobs.engines.policy.proof`), store changed policies as new draft
versions, publish `policy.updated`:

    {"action": "generated", "created": [ids], "unchanged": n, "superseded": [ids],
     "skipped": [{"workload", "reason"}], "snapshot_ids": [...], "exact": bool}

Transitions made by people (REST or the page) publish `policy.updated` with
`{"action": "submitted" | "approved" | "rejected", "policy": PolicyPublic}`; an approval also
queues `sync_gitops` for that version.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import yaml

from jobs.engines.policy.preview import blocked_public, candidate_impact, selected_keys
from jobs.engines.policy.proof import ProvenSet, generate_and_prove
from jobs.engines.policy.union import Snapshot
from jobs.engines.snapshot.types import EdgeRecord, NodeKind, NodeRecord
from jobs.runtime.connections import get_redis
from jobs.runtime.events import publish_event
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import PermanentJobError, report_progress, tracked
from jobs.tasks.baseline import WindowLoader
from models.db import session_scope
from models.errors import NotFound
from models.graph import Edge, Node
from models.graph import Snapshot as SnapshotRow
from models.policy import Policy
from models.public.policy import PolicyPublic
from models.queries import graph as graph_queries
from models.queries import policies as policy_queries

LOCK_SECONDS = 900
MAX_UNION = 168
MAX_IMPACT_SNAPSHOTS = 168


def policy_lock_key(tenant_id: int) -> str:
    """Serialises generation runs of one tenant, so versions are numbered once each."""
    return f"sg:lock:policies:{tenant_id}"


async def _snapshot_rows(tenant_id: int, snapshot_ids: Sequence[int] | None, last: int | None) -> list[SnapshotRow]:
    async with session_scope() as session:
        if snapshot_ids:
            try:
                return [await graph_queries.get_snapshot(session, tenant_id=tenant_id, snapshot_id=int(sid))
                        for sid in dict.fromkeys(snapshot_ids)]
            except NotFound as exc:
                raise PermanentJobError(f"{exc.message}: choose ready snapshots of this tenant") from exc
        rows = await graph_queries.list_snapshots(session, tenant_id=tenant_id, limit=max(1, min(last or 1, MAX_UNION)))
    if not rows:
        raise PermanentJobError("there is no ready snapshot to generate policies from: ingest flows first")
    return rows


def _drafts(proven: ProvenSet) -> list[policy_queries.PolicyDraft]:
    return [policy_queries.PolicyDraft(name=p.name, namespace=p.namespace, target=p.workload, yaml=p.yaml,
                                       rules_sha256=p.rules_sha256, notes=p.notes, verification=p.verification)
            for p in proven.policies]


@tracked(timeout=900, max_tries=3)
async def generate_policies(
    ctx: dict[str, Any], *, tenant_id: int, snapshot_ids: list[int] | None = None, last: int | None = None,
    actor: str = "generator",
) -> dict[str, Any]:
    """Generate, prove and store least-privilege NetworkPolicies from the given snapshots (default:
    the newest ready one; `last=N`: the union of the newest N)."""
    rows = await _snapshot_rows(tenant_id, snapshot_ids, last)
    ids = sorted(row.id or 0 for row in rows)
    await report_progress(ctx, fraction=0.1, message=f"loading {len(rows)} snapshot(s)")
    loader = WindowLoader(tenant_id)
    loaded = [await loader.load(row) for row in rows]
    snapshots: list[Snapshot] = [(s.nodes, s.edges) for s in loaded]
    await report_progress(ctx, fraction=0.3, message="generating and proving policies")
    proven = await asyncio.to_thread(generate_and_prove, snapshots, snapshot_ids=ids)
    async with ctx["redis"].lock(policy_lock_key(tenant_id), timeout=LOCK_SECONDS), session_scope() as session:
        outcome = await policy_queries.store_generated(session, tenant_id=tenant_id, snapshot_ids=ids,
                                                       drafts=_drafts(proven), actor=actor)
    summary = {
        "action": "generated", "snapshot_ids": ids, "policies": len(proven.policies), "created": outcome.created,
        "unchanged": len(outcome.unchanged), "superseded": outcome.superseded, "exact": proven.exact,
        "allowed_not_observed": proven.allowed_not_observed, "observed_not_allowed": proven.observed_not_allowed,
        "skipped": [{"workload": s.workload, "reason": s.reason} for s in proven.skipped], "invalid": proven.invalid,
    }
    await publish_event(ctx["redis"], tenant_id=tenant_id, kind="policy.updated", data=summary)
    return summary


async def queue_generation(
    *, tenant_id: int, actor: str, snapshot_ids: Sequence[int] | None = None, last: int | None = None
) -> int:
    """Queue `generate_policies` (one run per distinct input at a time); returns the job run id."""
    params: dict[str, Any] = {"actor": actor}
    if snapshot_ids:
        params["snapshot_ids"] = sorted({int(s) for s in snapshot_ids})
        key = "ids-" + "-".join(str(s) for s in params["snapshot_ids"])[:200]
    else:
        params["last"] = max(1, min(int(last or 1), MAX_UNION))
        key = f"last-{params['last']}"
    run = await enqueue_job("generate_policies", tenant_id=tenant_id, triggered_by=actor, params=params, key=key)
    return run.id or 0


async def announce_transition(*, tenant_id: int, policy: Policy, action: str, actor: str) -> int | None:
    """After a committed transition: publish it, and on approval queue `sync_gitops` for this version.

    Returns the GitOps job run id for an approval.
    """
    await publish_event(get_redis(), tenant_id=tenant_id, kind="policy.updated",
                        data={"action": action, "policy": PolicyPublic.of(policy).model_dump()})
    if action != "approved":
        return None
    pid = policy.id or 0
    run = await enqueue_job("sync_gitops", tenant_id=tenant_id, triggered_by=actor, params={"policy_id": pid},
                            key=f"{pid}:v{policy.version}")
    return run.id


def _node(row: Node) -> NodeRecord:
    return NodeRecord(row.key, row.name, cast(NodeKind, row.kind), row.namespace, dict(row.labels))


def _edge(row: Edge) -> EdgeRecord:
    return EdgeRecord(row.src, row.dst, row.dst_port, row.protocol, row.bytes, row.packets, row.flows, row.rejected,
                      row.first_seen, row.last_seen)


async def policy_impact(*, tenant_id: int, policy_id: int, snapshots: int) -> dict[str, Any]:
    """The flows of the newest `snapshots` ready snapshots that approving the policy would newly block
    (the policies in force stay, the version it replaces goes), heaviest first."""
    if not 1 <= snapshots <= MAX_IMPACT_SNAPSHOTS:
        raise ValueError(f"snapshots must lie between 1 and {MAX_IMPACT_SNAPSHOTS}")
    async with session_scope() as session:
        policy = await policy_queries.get_policy(session, tenant_id=tenant_id, policy_id=policy_id)
        others = [row for row in await policy_queries.in_force(session, tenant_id=tenant_id)
                  if (row.namespace, row.name) != (policy.namespace, policy.name)]
        rows = await policy_queries.latest_snapshots(session, tenant_id=tenant_id, limit=snapshots)
        ids = [row.id or 0 for row in rows]
        local = await policy_queries.namespace_nodes(session, tenant_id=tenant_id, snapshot_ids=ids,
                                                     namespace=policy.namespace)
        keys = await asyncio.to_thread(_selected, policy.yaml, [_node(n) for n in local])
        nodes, edges = await policy_queries.edges_touching(session, tenant_id=tenant_id, snapshot_ids=ids,
                                                           keys=sorted(keys))
    per_snapshot: list[Snapshot] = [
        ([_node(n) for n in nodes if n.snapshot_id == sid], [_edge(e) for e in edges if e.snapshot_id == sid])
        for sid in ids
    ]
    blocked = await asyncio.to_thread(_impact, policy.yaml, [o.yaml for o in others], per_snapshot)
    return {
        "policy_id": policy_id, "snapshot_ids": ids, "snapshots": len(ids), "selected": sorted(keys),
        "blocked": [blocked_public(b) for b in blocked], "blocked_edges": len(blocked),
        "blocked_flows": sum(b.flows for b in blocked),
    }


def _selected(text: str, nodes: list[NodeRecord]) -> frozenset[str]:
    return selected_keys(_load(text), nodes)


def _impact(text: str, others: list[str], snapshots: list[Snapshot]) -> list[Any]:
    return candidate_impact(_load(text), [_load(o) for o in others], snapshots)


def _load(text: str) -> dict[str, Any]:
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ValueError("the stored policy is not a YAML mapping")
    return loaded
