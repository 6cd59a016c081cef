"""`/api/v1/flows` and `/api/v1/uploads`: push flow files, then follow their parse."""

from __future__ import annotations

from fastapi import APIRouter, Request

from dashboard.api.answers import UploadQueued
from dashboard.api.deps import Caller, DbSession, limit_flow_push
from dashboard.api.errors import ApiError
from jobs.engines.flows.formats import FORMAT_ALIASES
from jobs.runtime.uploads import EmptyUpload, QuotaExceeded, UploadTooLarge, receive_upload
from models.errors import Invalid
from models.graph import UNNAMED_REST
from models.public.graph import UploadPublic
from models.queries import graph as graph_queries

router = APIRouter()


@router.post("/flows", status_code=202)
async def push_flows(request: Request, caller: Caller, format: str = "auto", filename: str = "") -> UploadQueued:
    """Store the body (a flow file, gzip allowed) and queue its parse: `202 {"upload_id", "job_id"}`."""
    caller.require("analyst")
    await limit_flow_push(caller)
    if format not in FORMAT_ALIASES:
        raise Invalid(f"format must be one of {', '.join(FORMAT_ALIASES)}")
    try:
        upload, run = await receive_upload(
            request.stream(), tenant_id=caller.tenant_id, filename=filename or UNNAMED_REST, fmt=format,
            created_by=caller.actor,
        )
    except QuotaExceeded as exc:
        raise ApiError(413, "quota_exceeded", str(exc)) from exc
    except UploadTooLarge as exc:
        raise ApiError(413, "too_large", str(exc)) from exc
    except EmptyUpload as exc:
        raise ApiError(422, "empty_file", "the request body is empty: send the flow file as the body") from exc
    return UploadQueued(upload_id=upload.id, job_id=run.id)


@router.get("/uploads/{upload_id}")
async def get_upload(caller: Caller, session: DbSession, upload_id: int) -> UploadPublic:
    """The parse outcome: status, accepted/rejected counts and the first bad lines."""
    upload = await graph_queries.get_upload(session, tenant_id=caller.tenant_id, upload_id=upload_id)
    return UploadPublic.of(upload)
