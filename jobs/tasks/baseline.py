"""Drift baselines from engine snapshots: load windows, build (or reuse) baselines, store them.

A baseline summarises a tenant's last N ready windows (tenant setting `baseline_windows`). It is
always derived from the windows' engine snapshots, so it does not depend on the order in which
windows were built. Building one from scratch costs a pass over N snapshots, so each worker keeps
the last few in a `BaselineCache`, keyed by the exact windows and sidecar file versions they hold:
processing windows in order then costs one `update_baseline` per window, and a rebuilt window
(new file version) can never be served from a stale entry.

Jobs: `refresh_baselines` (per tenant) rewrites the `baseline` table; `schedule_baseline_refresh`
is the half-hourly cron that queues it for every tenant.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from jobs.engines.drift import Baseline, Snapshot, build_baseline, update_baseline
from jobs.engines.drift.rows import baseline_edge_rows
from jobs.engines.snapshot.types import EdgeRecord, NodeKind, NodeRecord
from jobs.runtime.constants import baseline_lock_key
from jobs.runtime.gcpause import without_gc
from jobs.runtime.leases import lease
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import tracked
from jobs.stores.snapshots import Fingerprint, load_engine_snapshot, sidecar_fingerprint
from models.db import session_scope
from models.graph import Snapshot as SnapshotRow
from models.queries import baselines as baseline_queries
from models.queries import graph as graph_queries
from models.queries import tenancy

CACHE_SIZE = 8
# Two windows per tenant (the one analysed and its predecessor) for a handful of busy tenants.
SNAPSHOT_CACHE_SIZE = 4
CacheKey = tuple[int, int, tuple[tuple[int, Fingerprint], ...]]


class BaselineCache:
    """The last `size` baselines built in this process (least recently used goes first)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[CacheKey, Baseline] = OrderedDict()

    def get(self, key: CacheKey | None) -> Baseline | None:
        """The baseline stored under `key`, if any."""
        if key is None or key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: CacheKey | None, baseline: Baseline) -> None:
        """Keep `baseline` under `key` (an uncacheable None key is ignored)."""
        if key is None:
            return
        self._items[key] = baseline
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


SnapshotKey = tuple[int, int, Fingerprint]


class SnapshotCache:
    """The last `size` engine snapshots read from sidecars in this process, keyed by the sidecar's
    fingerprint (a rebuilt window has a new file, so a stale entry is never found)."""

    def __init__(self, size: int = SNAPSHOT_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[SnapshotKey, Snapshot] = OrderedDict()

    def get(self, key: SnapshotKey) -> Snapshot | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: SnapshotKey, snapshot: Snapshot) -> None:
        self._items[key] = snapshot
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


# Shared by the jobs of one worker process (ARQ hands each job a copy of the worker's ctx, so a
# cache kept in ctx would die with the job): the window analysed now is the "previous" one next
# time, and its rolled baseline the next window's baseline.
_snapshots = SnapshotCache()
baselines = BaselineCache()


@dataclass
class WindowLoader:
    """Loads engine snapshots of one tenant, each once per job run (and from the process cache)."""

    tenant_id: int
    loaded: dict[int, Snapshot] = field(default_factory=dict)

    async def load(self, row: SnapshotRow) -> Snapshot:
        """The window's sidecar, or its database rows when the sidecar is gone (no connection starts)."""
        sid = row.id or 0
        if sid not in self.loaded:
            self.loaded[sid] = await self._load(row)
        return self.loaded[sid]

    async def _load(self, row: SnapshotRow) -> Snapshot:
        fingerprint = await asyncio.to_thread(sidecar_fingerprint, self.tenant_id, row.window_start)  # a head request
        key = None if fingerprint is None else (self.tenant_id, int(row.window_start.timestamp()), fingerprint)
        if key is not None and (cached := _snapshots.get(key)) is not None and cached.window_end == row.window_end:
            return cached
        found = await asyncio.to_thread(
            without_gc(load_engine_snapshot), self.tenant_id, row.window_start, row.window_end
        )
        if found is None:
            return await self._from_database(row)
        if key is not None:
            _snapshots.put(key, found)
        return found

    async def _from_database(self, row: SnapshotRow) -> Snapshot:
        async with session_scope() as session:
            nodes, edges = await graph_queries.snapshot_graph(
                session, tenant_id=self.tenant_id, snapshot_id=row.id or 0
            )
        return Snapshot(
            row.window_start, row.window_end,
            tuple(NodeRecord(n.key, n.name, cast(NodeKind, n.kind), n.namespace, dict(n.labels)) for n in nodes),
            tuple(EdgeRecord(e.src, e.dst, e.dst_port, e.protocol, e.bytes, e.packets, e.flows, e.rejected,
                             e.first_seen, e.last_seen) for e in edges),
        )


def cache_keys(tenant_id: int, window_count: int, *row_sets: Sequence[SnapshotRow]) -> list[CacheKey | None]:
    """The key of a baseline holding exactly each of `row_sets`; None for a set with a window without a sidecar
    (not cacheable). Each window's sidecar is looked up once (a store request) however many sets hold it."""
    fingerprints: dict[datetime, Fingerprint | None] = {}

    def key_of(rows: Sequence[SnapshotRow]) -> CacheKey | None:
        held: list[tuple[int, Fingerprint]] = []
        for row in sorted(rows, key=lambda r: r.window_start):
            if row.window_start not in fingerprints:
                fingerprints[row.window_start] = sidecar_fingerprint(tenant_id, row.window_start)
            if (fingerprint := fingerprints[row.window_start]) is None:
                return None
            held.append((int(row.window_start.timestamp()), fingerprint))
        return (tenant_id, window_count, tuple(held))

    return [key_of(rows) for rows in row_sets]


def cache_key(tenant_id: int, window_count: int, rows: Sequence[SnapshotRow]) -> CacheKey | None:
    """The key of a baseline holding exactly `rows`; None when a window has no sidecar (not cacheable)."""
    return cache_keys(tenant_id, window_count, rows)[0]


async def baseline_of(
    loader: WindowLoader, rows: Sequence[SnapshotRow], window_count: int
) -> Baseline:
    """The baseline of the newest `window_count` of `rows` (ready snapshots, newest first).

    Pass one row more than `window_count` when there is one: a cached baseline of the older
    windows is then slid forward by one window instead of rebuilding all of them.
    """
    cache, held = baselines, list(rows[:window_count])
    # the keys head the windows' sidecars: store requests, kept off the event loop
    key, older_key = await asyncio.to_thread(cache_keys, loader.tenant_id, window_count, held,
                                             rows[1 : window_count + 1])
    if (found := cache.get(key)) is not None:
        return found
    older = cache.get(older_key) if held else None
    if older is not None:
        baseline = await asyncio.to_thread(without_gc(update_baseline), older, await loader.load(held[0]))
    else:
        snapshots = [await loader.load(row) for row in held]
        baseline = await asyncio.to_thread(without_gc(build_baseline), snapshots, window_count=window_count)
    cache.put(key, baseline)
    return baseline


async def store_baseline(ctx: dict[str, Any], tenant_id: int, baseline: Baseline) -> int:
    """Replace the tenant's `baseline` rows with `baseline`'s edges; returns how many."""
    rows = await asyncio.to_thread(without_gc(baseline_edge_rows), baseline)
    lock = lease(ctx["redis"], baseline_lock_key(tenant_id))
    async with lock, session_scope() as session:
        return await baseline_queries.replace_baselines(session, tenant_id=tenant_id, rows=rows)


@tracked(timeout=900, max_tries=3)
async def refresh_baselines(ctx: dict[str, Any], *, tenant_id: int) -> dict[str, Any]:
    """Rewrite the tenant's `baseline` table from its latest N ready windows."""
    async with session_scope() as session:
        tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
        count = tenant.baseline_windows
        rows = await graph_queries.list_snapshots(session, tenant_id=tenant_id, limit=count + 1)
    baseline = await baseline_of(WindowLoader(tenant_id), rows, count)
    edges = await store_baseline(ctx, tenant_id, baseline)
    return {"windows": baseline.held, "edges": edges}


async def schedule_baseline_refresh(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron, every 30 minutes: queue `refresh_baselines` for every tenant (one queued run each at most)."""
    async with session_scope() as session:
        tenant_ids = await tenancy.list_tenant_ids(session)
    for tenant_id in tenant_ids:
        await enqueue_job("refresh_baselines", tenant_id=tenant_id, triggered_by="schedule: baselines every 30 min",
                          key="refresh")
    return {"tenants": len(tenant_ids)}
