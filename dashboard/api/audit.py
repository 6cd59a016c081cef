"""`GET /api/v1/audit`: the tenant's audit entries, newest first (JSON, or CSV with `?format=csv`).

Approvers and admins read the audit log: it names every user, address and change, more than an
analyst needs, and approvers are the tenant's reviewers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from dashboard.api.deps import Caller, DbSession
from jobs.runtime.windows import parse_moment
from models.public.ops import AuditPublic
from models.queries import audit as audit_queries

AUDIT_READ_ROLE = "approver"
CSV_ANSWER: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}

router = APIRouter(prefix="/audit")


def audit_filter(action: str | None, actor: str | None, since: str | None, until: str | None,
                 q: str | None) -> audit_queries.AuditFilter:
    """The query parameters as a filter; a date that is not ISO 8601 raises BadRange (422)."""
    return audit_queries.AuditFilter(
        action=action or None, actor=actor or None, text=q or None,
        since=parse_moment(since, "since") if since else None,
        until=parse_moment(until, "until") if until else None,
    )


@router.get("", response_model=list[AuditPublic], responses=CSV_ANSWER)
async def list_entries(
    caller: Caller, session: DbSession, action: str | None = None, actor: str | None = None,
    since: str | None = None, until: str | None = None, q: str | None = None,
    format: str = Query("json", pattern="^(json|csv)$"),
    limit: int = Query(100, ge=1, le=10_000), offset: int = Query(0, ge=0),
) -> list[AuditPublic] | Response:
    """Entries filtered by exact `action`, `actor` (contains), `since`/`until` (ISO 8601) and free text `q`."""
    caller.require(AUDIT_READ_ROLE)
    where = audit_filter(action, actor, since, until, q)
    rows = await audit_queries.list_audit(session, tenant_id=caller.tenant_id, where=where, limit=limit,
                                          offset=offset)
    if format == "csv":
        return Response(audit_queries.audit_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
    return [AuditPublic.of(row) for row in rows]
