"""The audit log: who did what to which target, with before and after."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.ops import AuditLog
from models.public.ops import AuditPublic


async def record_audit(
    session: AsyncSession, *, tenant_id: int, actor: str, action: str, target: str = "",
    before: dict[str, Any] | None = None, after: dict[str, Any] | None = None, client_ip: str = "",
) -> AuditLog:
    """Append one audit entry in the caller's transaction."""
    entry = AuditLog(
        tenant_id=tenant_id, actor=actor, action=action, target=target[:300],
        before=before or {}, after=after or {}, client_ip=client_ip[:64],
    )
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show: exact action, actor containing, a time range, free text."""

    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


def _like(value: str) -> str:
    # The user's % and _ are literal characters, not wildcards.
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(tenant_id: int, where: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [col(AuditLog.tenant_id) == tenant_id]
    if where.action:
        conditions.append(col(AuditLog.action) == where.action)
    if where.actor:
        conditions.append(col(AuditLog.actor).ilike(_like(where.actor), escape="\\"))
    if where.since:
        conditions.append(col(AuditLog.created_at) >= where.since)
    if where.until:
        conditions.append(col(AuditLog.created_at) < where.until)
    if where.text:
        pattern = _like(where.text)
        conditions.append(or_(
            col(AuditLog.target).ilike(pattern, escape="\\"), col(AuditLog.action).ilike(pattern, escape="\\"),
            col(AuditLog.actor).ilike(pattern, escape="\\"),
            cast(col(AuditLog.before), String).ilike(pattern, escape="\\"),
            cast(col(AuditLog.after), String).ilike(pattern, escape="\\"),
        ))
    return conditions


async def list_audit(
    session: AsyncSession, *, tenant_id: int, where: AuditFilter | None = None, action: str | None = None,
    limit: int = 100, offset: int = 0,
) -> list[AuditLog]:
    """The tenant's audit entries matching `where` (or just `action`), newest first."""
    query = select(AuditLog).where(*_conditions(tenant_id, where or AuditFilter(action=action)))
    query = query.order_by(col(AuditLog.id).desc()).limit(min(max(limit, 1), 10_000)).offset(max(offset, 0))
    return list(await session.exec(query))


async def count_audit(session: AsyncSession, *, tenant_id: int, where: AuditFilter | None = None) -> int:
    """How many of the tenant's entries match `where`."""
    query = select(func.count()).select_from(AuditLog).where(*_conditions(tenant_id, where or AuditFilter()))
    return int((await session.exec(query)).one())


async def list_audit_actions(session: AsyncSession, *, tenant_id: int) -> list[str]:
    """The distinct actions the tenant's log holds, for the filter menu."""
    rows = await session.exec(
        select(AuditLog.action).where(col(AuditLog.tenant_id) == tenant_id).distinct().order_by(col(AuditLog.action))
    )
    return list(rows)


CSV_COLUMNS = ("id", "created_at", "actor", "action", "target", "before", "after", "client_ip")
# A cell starting with one of these is a formula to spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def audit_csv(entries: list[AuditLog]) -> str:
    """Entries as CSV with a header row; formula-looking cells are defused with a leading quote."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        public = AuditPublic.of(entry).model_dump()
        writer.writerow([_cell(public[column]) for column in CSV_COLUMNS])
    return out.getvalue()
