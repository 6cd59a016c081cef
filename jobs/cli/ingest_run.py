"""The work of `sg ingest` (`jobs.cli.ingest`): store each file as an upload, queue its parse, follow the parse
and the snapshot builds it queues on the tenant's live events, summarise.

Imported only when `sg ingest` runs. It avoids the modules the command does not need but whose import is
slow: `jobs.runtime.uploads` (it imports every parser through `jobs.tasks.ingest`).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from redis import exceptions as redis_exceptions
from redis.asyncio.client import PubSub
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from jobs.cli.spool import Spooled, Spooler
from jobs.engines.flows.detect import HEAD_BYTES, detect_format
from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.source import GZIP_MAGIC, open_stream
from jobs.runtime.connections import close_connections, get_redis
from jobs.runtime.constants import events_channel
from jobs.runtime.upload_store import UploadTooLarge, store_spooled, upload_limits
from models.db import session_scope
from models.graph import FlowUpload
from models.ops import FINISHED_STATUSES, JobRun
from models.queries import graph as graph_queries
from models.queries import jobs as job_queries
from models.queries import tenancy

# Without a live event for this long, read the runs from the database anyway (an event lost on a reconnect).
EVENT_FALLBACK_SECONDS = 1.0
# How often to read them when Redis pub/sub is not available at all.
POLL_SECONDS = 0.05
console = Console(stderr=True)


def precheck(path: Path) -> str | None:
    """Why the file is obviously not a flow file, or None (the worker does the full parse)."""
    try:
        with open_stream(path) as stream:
            detect_format(stream.read(HEAD_BYTES))
    except FlowFileRejected as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    return None


async def refusal(spooled: Spooled, tenant_id: int) -> str | None:
    """Why the spooled copy may not be stored (the limit of flow data per upload, the tenant's disk quota), or None.

    The spooler already held the file to the size limit; the limits the REST door checks too are checked here.
    """
    if spooled.path is None:
        return spooled.reason
    limits = await asyncio.to_thread(upload_limits, tenant_id)  # walks the tenant's folders
    with spooled.path.open("rb") as handle:
        compressed = handle.read(2) == GZIP_MAGIC
    try:
        limits.check(spooled.size, compressed=compressed)
    except UploadTooLarge as exc:
        return str(exc)
    return None


async def tenant_id_of(name: str) -> int:
    """The id of the tenant named `name`."""
    async with session_scope() as session:
        tenant = await tenancy.get_tenant_by_name(session, name=name)
    return tenant.id or 0


async def store_upload(spooled: Spooled, *, tenant_id: int, filename: str, fmt: str) -> tuple[FlowUpload, JobRun]:
    """Record a spooled copy as a new upload of the tenant and queue `ingest_flows` for it."""
    if spooled.path is None:
        raise ValueError(f"{filename}: nothing to store ({spooled.reason})")
    try:
        return await store_spooled(spooled.path, size=spooled.size, tenant_id=tenant_id, filename=filename,
                                   fmt=fmt, created_by="cli")
    finally:
        spooled.discard()


class JobEvents:
    """Wake-ups from the tenant's live events: `job.updated` is published at every enqueue and transition
    (jobs.runtime.queue, jobs.runtime.tracking). The database stays the source of truth; an event only says
    "read it now"."""

    def __init__(self, pubsub: PubSub | None) -> None:
        self._pubsub = pubsub

    @classmethod
    async def subscribe(cls, tenant_id: int) -> JobEvents:
        """Listen to the tenant's channel; once this returns, no later event is missed."""
        pubsub = get_redis().pubsub()
        await pubsub.subscribe(events_channel(tenant_id))
        # Redis confirms the subscription; waiting for that orders it before the jobs we are about to queue.
        confirmed = await pubsub.get_message(timeout=5.0)
        if confirmed is None or confirmed.get("type") != "subscribe":
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            return cls(None)
        return cls(pubsub)

    async def wait(self, run_ids: set[int], at_most: float) -> None:
        """Return at the next update of one of `run_ids`, or after `at_most` seconds."""
        if self._pubsub is None:
            await asyncio.sleep(min(at_most, POLL_SECONDS))
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + at_most
        while (left := deadline - loop.time()) > 0:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            except (redis_exceptions.ConnectionError, redis_exceptions.TimeoutError):
                # Live events are a shortcut only: read the database on a timer from now on.
                await self.close()
                return
            if message is None:
                continue
            event = json.loads(message["data"])
            if event.get("type") == "job.updated" and (event.get("data") or {}).get("id") in run_ids:
                return

    async def close(self) -> None:
        if self._pubsub is not None:
            pubsub, self._pubsub = self._pubsub, None
            await pubsub.aclose()  # type: ignore[no-untyped-call]


async def _job_tree_done(tenant_id: int, run_id: int) -> tuple[bool, float, str, list[int]]:
    """(finished, progress, message, snapshot job ids) of an ingest run and the builds it queued."""
    async with session_scope() as session:
        run = await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=run_id)
        if run.status not in FINISHED_STATUSES:
            return False, run.progress * 0.5, run.progress_message or run.status, []
        builds = [int(i) for i in run.result.get("snapshot_jobs", [])]
        done = [await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=b) for b in builds]
    finished = sum(b.status in FINISHED_STATUSES for b in done)
    fraction = 0.5 + 0.5 * (finished / len(builds) if builds else 1.0)
    return finished == len(builds), fraction, f"{finished}/{len(builds)} snapshots built", builds


async def _follow(progress: Progress, task: TaskID, tenant_id: int, run_id: int, events: JobEvents) -> None:
    watched = {run_id}
    while True:
        finished, fraction, message, builds = await _job_tree_done(tenant_id, run_id)
        progress.update(task, completed=fraction * 100, status=message)
        if finished:
            return
        watched.update(builds)
        await events.wait(watched, EVENT_FALLBACK_SECONDS)


async def _summary(tenant_id: int, upload_id: int, run_id: int) -> tuple[bool, str]:
    async with session_scope() as session:
        upload = await graph_queries.get_upload(session, tenant_id=tenant_id, upload_id=upload_id)
        run = await job_queries.get_job_run(session, tenant_id=tenant_id, job_run_id=run_id)
    if upload.status == "rejected" or run.status != "succeeded":
        return False, f"rejected: {upload.reason or run.error}"
    text = (f"{upload.source_format}: {upload.rows_accepted:,} accepted, {upload.rows_rejected:,} rejected, "
            f"{upload.rows_skipped:,} skipped; {run.result.get('windows', 0)} windows")
    for error in upload.errors[:5]:
        text += f"\n    line {error['line']}: {error['reason']}"
    return True, text


async def ingest_paths(paths: list[Path], tenant_name: str, fmt: str, wait: bool, spooler: Spooler) -> int:
    """Push every file; with `wait`, follow each to its snapshots. Returns the number of rejected files."""
    tenant_id, rejected = await tenant_id_of(tenant_name), 0
    events = JobEvents(None)
    try:
        if wait:
            # Subscribed before the first job is queued, so none of its updates can be missed.
            events = await JobEvents.subscribe(tenant_id)
        columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[status]}"),
                   TimeElapsedColumn()]
        with Progress(*columns, console=console) as progress:
            for index, path in enumerate(paths):
                task = progress.add_task(path.name, total=100, status="checking")
                reason = precheck(path)
                spooled = await spooler.take(index)
                reason = reason or await refusal(spooled, tenant_id)
                if reason is not None:
                    spooled.discard()
                    progress.update(task, completed=100, status=f"[red]rejected: {reason}")
                    rejected += 1
                    continue
                upload, run = await store_upload(spooled, tenant_id=tenant_id, filename=path.name, fmt=fmt)
                progress.update(task, completed=5, status=f"upload #{upload.id}, job #{run.id}")
                if not wait:
                    continue
                await _follow(progress, task, tenant_id, run.id or 0, events)
                ok, text = await _summary(tenant_id, upload.id or 0, run.id or 0)
                rejected += not ok
                progress.update(task, completed=100, status=text.splitlines()[0] if ok else f"[red]{text}")
                if ok and "\n" in text:
                    progress.console.print(text.split("\n", 1)[1])
    finally:
        await events.close()
        await close_connections()
    return rejected
