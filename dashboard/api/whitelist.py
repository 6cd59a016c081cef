"""`/api/v1/whitelist`: list, add and remove the entries that suppress expected drift.

Viewers read; analysts (and above) add and remove. Every change is audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from dashboard.api.deps import Caller, DbSession
from jobs.runtime.windows import parse_moment
from models.public.drift import WhitelistPublic
from models.queries import whitelist as whitelist_queries

router = APIRouter(prefix="/whitelist")


class WhitelistIn(BaseModel):
    src_pattern: str = "*"
    dst_pattern: str = "*"
    port: int | None = None
    expires_at: str | None = None
    reason: str = ""


@router.get("")
async def list_entries(caller: Caller, session: DbSession) -> list[WhitelistPublic]:
    """All entries of the tenant, expired ones included (`expired: true`), newest first."""
    caller.require("viewer")
    rows = await whitelist_queries.list_whitelist(session, tenant_id=caller.tenant_id)
    return [WhitelistPublic.of(row) for row in rows]


@router.post("", status_code=201)
async def create_entry(caller: Caller, session: DbSession, body: WhitelistIn) -> WhitelistPublic:
    """Add an entry: src/dst patterns (globs or CIDRs), optional port, optional future expiry, a reason."""
    caller.require("analyst")
    expires = parse_moment(body.expires_at, "expires_at") if body.expires_at else None
    row = await whitelist_queries.create_whitelist(
        session, tenant_id=caller.tenant_id, src_pattern=body.src_pattern, dst_pattern=body.dst_pattern,
        port=body.port, expires_at=expires, reason=body.reason, author=caller.actor,
    )
    return WhitelistPublic.of(row)


@router.delete("/{entry_id}", status_code=204)
async def delete_entry(caller: Caller, session: DbSession, entry_id: int) -> Response:
    """Remove an entry; later windows are no longer suppressed by it."""
    caller.require("analyst")
    await whitelist_queries.delete_whitelist(session, tenant_id=caller.tenant_id, entry_id=entry_id,
                                             actor=caller.actor)
    return Response(status_code=204)
