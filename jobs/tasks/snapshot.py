"""The `build_snapshot` job: one window's flows → nodes and edges, swapped in atomically.

Besides the `node`/`edge` rows, each build writes the window's engine snapshot (connection start
times included) beside the flows (`jobs.stores.snapshots`) and queues `detect_incidents`, which queues drift
detection when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

from arq import Retry
from sqlalchemy.exc import IntegrityError

from jobs.engines.snapshot.builder import SnapshotAccumulator, WindowFrames
from jobs.runtime.constants import snapshot_lock_key
from jobs.runtime.events import publish_event
from jobs.runtime.leases import lease
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import PermanentJobError, report_progress, tracked
from jobs.stores.flows import align, formats_of, read_partials, window_files
from jobs.stores.snapshots import stage_engine_frames
from models.db import session_scope
from models.graph import Snapshot
from models.public.graph import SnapshotPublic
from models.queries import graph as graph_queries
from models.queries import tenancy


def _build(files: list[str], window_start: datetime, window_seconds: int) -> WindowFrames:
    """Merge the window's stored 5-minute partials into its nodes and edges (columns, no per-edge objects)."""
    accumulator = SnapshotAccumulator(window_seconds=window_seconds)
    accumulator.add_partials(*read_partials(files))
    return accumulator.build_window_frames(window_start)


async def _save(
    ctx: dict[str, Any], tenant_id: int, built: WindowFrames, files: list[str]
) -> tuple[Snapshot, bool]:
    """Swap the window's rows in, then its engine sidecar; returns the row and whether the sidecar changed.

    The sidecar is encoded on a thread while PostgreSQL takes the rows, and put in place only once they are
    committed: a reader never sees a sidecar whose rows are not there.
    """
    staging = asyncio.ensure_future(asyncio.to_thread(
        stage_engine_frames, tenant_id, built.window_start, built.window_end, built.nodes, built.edges
    ))
    committed = False
    try:
        async with session_scope() as session:
            snapshot = await graph_queries.replace_snapshot_frames(
                session, tenant_id=tenant_id, window_start=built.window_start, window_end=built.window_end,
                source=formats_of(files), nodes=built.nodes, edges=built.edges,
            )
        committed = True
    except IntegrityError as exc:
        # Another build created the window's row first: try again, it now exists.
        raise Retry(defer=ctx["job_try"] * 0.5) from exc
    finally:
        if not committed:
            # The encoding thread cannot be stopped: let it end, then drop what it wrote (the rows' error
            # is the one to report, not a failed encoding's).
            with contextlib.suppress(Exception):
                (await asyncio.shield(staging)).discard()
    staged = await staging
    return snapshot, await asyncio.to_thread(staged.publish)


@tracked(timeout=1800, max_tries=3)
async def build_snapshot(ctx: dict[str, Any], *, tenant_id: int, window_start: str) -> dict[str, Any]:
    """Build (or rebuild) the snapshot of the window starting at `window_start` (ISO 8601), then queue its
    detection (`detect_incidents`, which queues its drift detection, and re-detection of later windows when this
    one changed)."""
    async with session_scope() as session:
        tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
    start = datetime.fromisoformat(window_start)
    seconds = tenant.window_seconds
    if start.tzinfo is None or align(start, seconds) != start:
        raise PermanentJobError(f"{window_start} is not the start of a {seconds} s window in UTC")
    async with lease(ctx["redis"], snapshot_lock_key(tenant_id, int(start.timestamp()))):
        files = await asyncio.to_thread(window_files, tenant_id, start, seconds)  # a store listing
        if not files:
            return {"snapshot_id": None, "window_start": window_start, "note": "no flows in this window"}
        await report_progress(ctx, fraction=0.1, message=f"merging {len(files)} partial files")
        built = await asyncio.to_thread(_build, files, start, seconds)
        counts = f"{built.nodes.height} nodes, {built.edges.height} edges"
        await report_progress(ctx, fraction=0.6, message=f"saving {counts}")
        snapshot, changed = await _save(ctx, tenant_id, built, files)
    await publish_event(ctx["redis"], tenant_id=tenant_id, kind="snapshot.built",
                        data=SnapshotPublic.of(snapshot).model_dump())
    run = await enqueue_job("detect_incidents", tenant_id=tenant_id, triggered_by=f"snapshot of {window_start}",
                            params={"snapshot_id": snapshot.id, "changed": changed}, key=str(snapshot.id),
                            rerun_if_running=True)
    return {"snapshot_id": snapshot.id, "window_start": window_start, "nodes": snapshot.node_count,
            "edges": snapshot.edge_count, "detect_jobs": [run.id or 0]}
