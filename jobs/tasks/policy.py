"""The policy review workflow around its transitions, and the impact preview.

Generation lives in `jobs.tasks.policy_generation` (re-exported here). Transitions made by people (REST
or the page) publish `policy.updated` with `{"action": "submitted" | "approved" | "rejected", "policy":
PolicyPublic}`; an approval also queues `sync_gitops` for that version when the tenant has configured
GitOps (without it nothing would be shipped, so nothing is queued and the caller says so).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import yaml

from jobs.engines.policy.clusters import cluster_part
from jobs.engines.policy.preview import blocked_public, candidate_impact, selected_keys
from jobs.engines.policy.union import Snapshot
from jobs.engines.snapshot.types import EdgeRecord, NodeKind, NodeRecord, key_cluster
from jobs.runtime.connections import get_redis
from jobs.runtime.events import publish_event
from jobs.runtime.queue import enqueue_job
from jobs.tasks.monitor import recheck_after_approval
from jobs.tasks.policy_generation import MAX_UNION, generate_policies, policy_lock_key, queue_generation
from models.db import session_scope
from models.graph import Edge, Node
from models.policy import Policy
from models.public.policy import PolicyPublic
from models.queries import gitops as gitops_queries
from models.queries import policies as policy_queries
from models.queries import policy_windows
from models.queries.audit import record_audit

__all__ = ["MAX_UNION", "generate_policies", "policy_lock_key", "queue_generation"]

MAX_IMPACT_SNAPSHOTS = 168


async def gitops_configured(*, tenant_id: int) -> bool:
    """Whether the tenant has a repository set, so an approval opens a pull request."""
    async with session_scope() as session:
        config = await gitops_queries.get_config(session, tenant_id=tenant_id)
    return config is not None and bool(config.repo_url)


async def audit_refusal(*, tenant_id: int, policy_id: int, actor: str, action: str, reason: str) -> None:
    """Record a refused review action (e.g. self-approval under four eyes) in the audit log, in its own
    transaction (the refused one rolled back)."""
    async with session_scope() as session:
        await record_audit(session, tenant_id=tenant_id, actor=actor, action=f"policy.{action}.refused",
                           target=policy_queries.policy_target(policy_id), before={}, after={"reason": reason[:500]})


async def announce_transition(*, tenant_id: int, policy: Policy, action: str, actor: str) -> int | None:
    """After a committed transition: publish it, and on approval re-evaluate the namespace's windows in monitor
    mode (`recheck_after_approval`) and queue `sync_gitops` for this version.

    Returns the GitOps job run id for an approval (None when GitOps is not configured).
    """
    await publish_event(get_redis(), tenant_id=tenant_id, kind="policy.updated",
                        data={"action": action, "policy": PolicyPublic.of(policy).model_dump()})
    if action == "approved":  # monitor mode: the violations this version admits resolve now, not at the next cron
        await recheck_after_approval(tenant_id=tenant_id, namespace=policy.namespace, actor=actor,
                                     cluster=policy.cluster)
    if action != "approved" or not await gitops_configured(tenant_id=tenant_id):
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
    """The flows that approving the policy would newly block (the policies in force stay, the version it
    replaces goes), heaviest first, over the newest `snapshots` windows holding workloads of the policy's
    namespace (other windows cannot hold its traffic); with how many windows and flows were checked."""
    if not 1 <= snapshots <= MAX_IMPACT_SNAPSHOTS:
        raise ValueError(f"snapshots must lie between 1 and {MAX_IMPACT_SNAPSHOTS}")
    async with session_scope() as session:
        policy = await policy_queries.get_policy(session, tenant_id=tenant_id, policy_id=policy_id)
        # a cluster's policies meet only its own flows and pods (issue 19 A4)
        others = [row for row in await policy_queries.in_force(session, tenant_id=tenant_id)
                  if row.cluster == policy.cluster and (row.namespace, row.name) != (policy.namespace, policy.name)]
        rows = await policy_windows.namespace_windows(session, tenant_id=tenant_id, namespace=policy.namespace,
                                                      limit=snapshots, cluster=policy.cluster)
        ids = [row.id or 0 for row in rows]
        local = await policy_queries.namespace_nodes(session, tenant_id=tenant_id, snapshot_ids=ids,
                                                     namespace=policy.namespace)
        mine = [_node(n) for n in local if key_cluster(n.key) == policy.cluster]
        keys = await asyncio.to_thread(_selected, policy.yaml, mine)
        nodes, edges = await policy_queries.edges_touching(session, tenant_id=tenant_id, snapshot_ids=ids,
                                                           keys=sorted(keys))
    per_snapshot: list[Snapshot] = cluster_part([
        ([_node(n) for n in nodes if n.snapshot_id == sid], [_edge(e) for e in edges if e.snapshot_id == sid])
        for sid in ids
    ], policy.cluster)
    blocked = await asyncio.to_thread(_impact, policy.yaml, [o.yaml for o in others], per_snapshot)
    return {
        "policy_id": policy_id, "namespace": policy.namespace, "snapshot_ids": ids, "snapshots": len(ids),
        "windows_from": rows[-1].window_start.isoformat() if rows else None,
        "windows_to": rows[0].window_end.isoformat() if rows else None,
        "checked_flows": sum(e.flows for e in edges), "checked_edges": len(edges), "selected": sorted(keys),
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
