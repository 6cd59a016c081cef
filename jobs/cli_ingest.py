"""`sg ingest PATH… --tenant NAME [--format …] [--wait]`: push flow files, show progress, summarise."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from jobs.flows.detect import HEAD_BYTES, detect_format
from jobs.flows.exceptions import FlowFileRejected
from jobs.flows.source import open_stream
from jobs.ingest import FORMAT_ALIASES
from jobs.uploads import file_chunks, receive_upload
from models.db import session_scope
from models.ops import FINISHED_STATUSES
from models.queries import graph as graph_queries
from models.queries import jobs as job_queries
from models.queries import tenancy

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


async def _follow(progress: Progress, task: TaskID, tenant_id: int, run_id: int) -> None:
    while True:
        finished, fraction, message, _ = await _job_tree_done(tenant_id, run_id)
        progress.update(task, completed=fraction * 100, status=message)
        if finished:
            return
        await asyncio.sleep(POLL_SECONDS)


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


async def ingest_paths(paths: list[Path], tenant_name: str, fmt: str, wait: bool) -> int:
    """Push every file; with `wait`, follow each to its snapshots. Returns the number of rejected files."""
    async with session_scope() as session:
        tenant = await tenancy.get_tenant_by_name(session, name=tenant_name)
    tenant_id, rejected = tenant.id or 0, 0
    columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[status]}"), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        for path in paths:
            task = progress.add_task(path.name, total=100, status="checking")
            reason = precheck(path)
            if reason is not None:
                progress.update(task, completed=100, status=f"[red]rejected: {reason}")
                rejected += 1
                continue
            upload, run = await receive_upload(file_chunks(path), tenant_id=tenant_id, filename=path.name, fmt=fmt,
                                               created_by="cli")
            progress.update(task, completed=5, status=f"upload #{upload.id}, job #{run.id}")
            if not wait:
                continue
            await _follow(progress, task, tenant_id, run.id or 0)
            ok, text = await _summary(tenant_id, upload.id or 0, run.id or 0)
            rejected += not ok
            progress.update(task, completed=100, status=text.splitlines()[0] if ok else f"[red]{text}")
            if ok and "\n" in text:
                progress.console.print(text.split("\n", 1)[1])
    return rejected


def register(main: click.Group, run: Any) -> None:
    """Add `ingest` to the `sg` group."""

    @main.command("ingest")
    @click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--tenant", "tenant_name", required=True, help="Tenant name.")
    @click.option("--format", "fmt", default="auto", show_default=True, type=click.Choice(list(FORMAT_ALIASES)))
    @click.option("--wait", is_flag=True, help="Follow each file until its snapshots are built.")
    def ingest(paths: tuple[Path, ...], tenant_name: str, fmt: str, wait: bool) -> None:
        """Push flow files (gzip allowed) to the tenant; a worker parses them into snapshots."""
        rejected = run(lambda: ingest_paths(list(paths), tenant_name, fmt, wait))
        if rejected:
            raise click.ClickException(f"{rejected} of {len(paths)} files rejected")
