"""Cron fan-outs that queue one small tracked job per tenant, and the retention job.

- `schedule_window_builds`, every 5 minutes: for each tenant whose window just closed, queue the
  `build_snapshot` of that window when flows arrived in it (same deterministic key as uploads and
  manual builds, so the window is never built twice at once).
- `schedule_retention`, 03:00 UTC: queue `cleanup_retention` for every tenant: flow partitions
  older than the tenant's `retention_days` (default 30) both by their flows' time and by when they were
  received, the raw files of uploads received before then (the
  upload rows and their counts stay; the disk quota counts these files) and finished job runs older than
  JOB_HISTORY_DAYS are deleted; expired web sessions are dropped. Snapshots, drift events and the
  audit log are kept (baselines and investigations read them).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import report_progress, tracked
from jobs.stores.flows import align, window_files
from jobs.stores.retention import delete_upload_files, expire_flow_partitions
from models.db import session_scope
from models.queries import retention, tenancy
from models.types import utcnow

CRON_PERIOD = timedelta(minutes=5)
JOB_HISTORY_DAYS = 90


def window_just_closed(now: datetime, window_seconds: int) -> datetime | None:
    """The start of the window that ended within the last cron period, or None mid-window."""
    boundary = align(now, window_seconds)
    if now - boundary >= CRON_PERIOD:
        return None
    return boundary - timedelta(seconds=window_seconds)


async def schedule_window_builds(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron, every 5 minutes: build each tenant's just-closed window if it holds flows."""
    now = utcnow()
    async with session_scope() as session:
        tenants = [await tenancy.get_tenant(session, tenant_id=t) for t in await tenancy.list_tenant_ids(session)]
    queued = 0
    for tenant in tenants:
        start = window_just_closed(now, tenant.window_seconds)
        if start is None or not await asyncio.to_thread(window_files, tenant.id or 0, start, tenant.window_seconds):
            continue
        await enqueue_job("build_snapshot", tenant_id=tenant.id or 0, triggered_by="schedule: window closed",
                          params={"window_start": start.isoformat()}, key=str(int(start.timestamp())))
        queued += 1
    return {"tenants": len(tenants), "queued": queued}


async def schedule_retention(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron, 03:00 UTC: queue `cleanup_retention` for every tenant (one queued run each at most)."""
    async with session_scope() as session:
        tenant_ids = await tenancy.list_tenant_ids(session)
    day = utcnow().date().isoformat()
    for tenant_id in tenant_ids:
        await enqueue_job("cleanup_retention", tenant_id=tenant_id, triggered_by="schedule: retention 03:00 UTC",
                          key=day)
    return {"tenants": len(tenant_ids)}


@tracked(timeout=600, max_tries=3)
async def cleanup_retention(ctx: dict[str, Any], *, tenant_id: int) -> dict[str, Any]:
    """Delete the tenant's data past retention (see the module doc); idempotent."""
    now = utcnow()
    async with session_scope() as session:
        tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
    flows_before = now - timedelta(days=tenant.retention_days)
    # Store listings and deletes block (a bucket: one request each), so they run off the worker's event loop:
    # on it, a 2-minute expiry froze every job of the worker and let the sweeper judge one lost.
    partitions = await asyncio.to_thread(expire_flow_partitions, tenant_id, flows_before,
                                         received_before=flows_before)
    await report_progress(ctx, fraction=0.5, message=f"removed {partitions} flow partitions")
    async with session_scope() as session:
        runs = await retention.delete_finished_runs_before(
            session, tenant_id=tenant_id, before=now - timedelta(days=JOB_HISTORY_DAYS))
        sessions = await retention.delete_expired_sessions(session, tenant_id=tenant_id, now=now)
        upload_files = await retention.forget_upload_files_before(session, tenant_id=tenant_id, before=flows_before)
    deleted = await asyncio.to_thread(delete_upload_files, upload_files)
    return {"flow_partitions": partitions, "job_runs": runs, "sessions": sessions, "upload_files": deleted,
            "flows_before": flows_before.isoformat()}
