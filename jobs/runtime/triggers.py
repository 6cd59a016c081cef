"""Work a user asks for over a date range: snapshot builds and drift runs, validated and audited.

The REST routes and the Jobs page both call these, so the rules (start < end, end not in the
future, at most 31 days; deterministic job keys; audit with the user) live in one place.
"""

from __future__ import annotations

from datetime import datetime

from jobs.runtime.queue import enqueue_job
from jobs.runtime.queues import queue_for
from jobs.runtime.windows import BadRange, parse_moment, windows_between
from models.db import session_scope
from models.ops import JobRun
from models.queries import tenancy
from models.queries.audit import record_audit
from models.queries.snapshot_range import ready_snapshots_between
from models.types import utcnow


async def _windows(tenant_id: int, window_start: str, window_end: str) -> tuple[datetime, datetime, list[datetime]]:
    async with session_scope() as session:
        tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
    start, end = parse_moment(window_start, "window_start"), parse_moment(window_end, "window_end")
    return start, end, windows_between(start, end, window_seconds=tenant.window_seconds, now=utcnow())


async def queue_snapshot_builds(*, tenant_id: int, window_start: str, window_end: str, actor: str) -> list[JobRun]:
    """A `build_snapshot` run per window of the range; BadRange says what is wrong with the dates."""
    start, end, windows = await _windows(tenant_id, window_start, window_end)
    runs = [await enqueue_job("build_snapshot", tenant_id=tenant_id, triggered_by=actor,
                              params={"window_start": w.isoformat()}, key=str(int(w.timestamp())),
                              rerun_if_running=True) for w in windows]
    async with session_scope() as session:
        await record_audit(session, tenant_id=tenant_id, actor=actor, action="snapshot.build",
                           after={"window_start": start.isoformat(), "window_end": end.isoformat(),
                                  "windows": len(runs)})
    return runs


async def queue_drift_runs(*, tenant_id: int, window_start: str, window_end: str, actor: str) -> list[JobRun]:
    """A `detect_drift` run per ready snapshot of the range; BadRange when the dates are wrong or no
    snapshot exists there (the user must build one first)."""
    start, end, windows = await _windows(tenant_id, window_start, window_end)
    async with session_scope() as session:
        snapshots = await ready_snapshots_between(session, tenant_id=tenant_id, start=windows[0], end=end)
    if not snapshots:
        raise BadRange("no snapshot is built in that range yet: trigger a snapshot build first")
    # One window is interactive work; a range is bulk (it must not hold up the pings and drift runs of others).
    queue = queue_for("detect_drift", many=len(snapshots) > 1)
    runs = [await enqueue_job("detect_drift", tenant_id=tenant_id, triggered_by=actor,
                              params={"snapshot_id": s.id}, key=str(s.id), rerun_if_running=True, queue=queue)
            for s in snapshots]
    async with session_scope() as session:
        await record_audit(session, tenant_id=tenant_id, actor=actor, action="drift.run",
                           after={"window_start": start.isoformat(), "window_end": end.isoformat(),
                                  "snapshots": [s.id for s in snapshots]})
    return runs


__all__ = ["BadRange", "queue_drift_runs", "queue_snapshot_builds"]
