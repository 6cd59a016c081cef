"""Deleting what has outlived its retention: finished job runs, expired web sessions, raw upload files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.graph import FlowUpload
from models.ops import JobRun
from models.tenancy import UserSession

FINISHED = ("succeeded", "failed", "cancelled", "lost")
# An upload in these states is still to be parsed: its file must stay.
UPLOADS_IN_FLIGHT = ("received", "parsing")


async def delete_finished_runs_before(session: AsyncSession, *, tenant_id: int, before: datetime) -> int:
    """Drop the tenant's finished job runs queued before `before`; runs still in flight are kept."""
    result = await session.exec(
        delete(JobRun).where(col(JobRun.tenant_id) == tenant_id, col(JobRun.enqueued_at) < before,
                             col(JobRun.status).in_(FINISHED))
    )
    return int(result.rowcount or 0)


async def delete_expired_sessions(session: AsyncSession, *, tenant_id: int, now: datetime) -> int:
    """Drop the tenant's web sessions that expired (they are refused already; this frees the rows)."""
    result = await session.exec(
        delete(UserSession).where(col(UserSession.tenant_id) == tenant_id, col(UserSession.expires_at) <= now)
    )
    return int(result.rowcount or 0)


async def forget_upload_files_before(session: AsyncSession, *, tenant_id: int, before: datetime) -> list[str]:
    """The stored files of the tenant's settled uploads received before `before`; their rows keep the record and
    counts but no longer point at a file (the caller deletes the files after the commit)."""
    uploads = list(await session.exec(
        select(FlowUpload).where(col(FlowUpload.tenant_id) == tenant_id, col(FlowUpload.created_at) < before,
                                 col(FlowUpload.stored_path) != "", col(FlowUpload.status).not_in(UPLOADS_IN_FLIGHT))
    ))
    paths = [upload.stored_path for upload in uploads]
    for upload in uploads:
        upload.stored_path = ""
        session.add(upload)
    return paths
