"""Bulk status change of incidents: the ticked ones, or every incident matching the list's filters.

A filter-wide change is confirmed on a count (`count_matching`) and then touches only the incidents counted: those
with an id up to the highest one counted. Each incident goes through `set_incident_status`, so its events take the
status in the same transaction and each real change is audited (`incident.status`, target `incident:{id}`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import EVENT_KINDS, SEVERITIES
from models.errors import Invalid
from models.incidents import DIRECTIONS, INCIDENT_STATUSES, Incident
from models.queries.filters import MAX_TEXT, check_choice
from models.queries.incidents import _conditions, set_incident_status

# One bulk change touches at most this many incidents (each carries its events and is audited on its own).
MAX_BULK = 5_000


def _where(tenant_id: int, status: str | None, kind: str | None, direction: str | None, severity: str | None,
           q: str | None) -> list[Any]:
    for name, value, allowed in (("status", status, INCIDENT_STATUSES), ("kind", kind, EVENT_KINDS),
                                 ("direction", direction, DIRECTIONS), ("severity", severity, SEVERITIES)):
        check_choice(name, value, allowed)
    filters = {"status": status, "kind": kind, "direction": direction, "severity": severity}
    return _conditions(tenant_id, filters, None, None, (q or "").strip()[:MAX_TEXT] or None)


async def count_matching(
    session: AsyncSession, *, tenant_id: int, status: str | None = None, kind: str | None = None,
    direction: str | None = None, severity: str | None = None, q: str | None = None,
) -> tuple[int, int]:
    """How many of the tenant's incidents match the filters (as `list_incidents` takes them) and the highest id
    among them (0 when none): the count a filter-wide change is confirmed on."""
    where = _where(tenant_id, status, kind, direction, severity, q)
    count, upto = (await session.exec(select(func.count(), func.max(Incident.id)).where(*where))).one()
    return int(count), int(upto or 0)


async def set_status_many(
    session: AsyncSession, *, tenant_id: int, incident_ids: Sequence[int], status: str, by: str,
) -> int:
    """Set `status` on the tenant's incidents `incident_ids` (NotFound for one that is not the tenant's); returns
    how many changed (those already in `status` with all their events are not)."""
    check_choice("status", status, INCIDENT_STATUSES)
    if len(incident_ids) > MAX_BULK:
        raise Invalid(f"a bulk change touches at most {MAX_BULK:,} incidents: narrow the filters")
    changed = 0
    for incident_id in sorted(set(incident_ids)):
        before = (await session.exec(select(Incident.status).where(
            col(Incident.tenant_id) == tenant_id, col(Incident.id) == incident_id))).first()
        await set_incident_status(session, tenant_id=tenant_id, incident_id=incident_id, status=status, by=by)
        changed += before != status
    return changed


async def set_status_matching(
    session: AsyncSession, *, tenant_id: int, new_status: str, by: str, upto_id: int, status: str | None = None,
    kind: str | None = None, direction: str | None = None, severity: str | None = None, q: str | None = None,
) -> int:
    """Set `new_status` on every incident matching the filters with an id up to `upto_id` (the count's), skipping
    those already in it; returns how many changed."""
    check_choice("status", new_status, INCIDENT_STATUSES)
    where = _where(tenant_id, status, kind, direction, severity, q)
    where += [col(Incident.id) <= upto_id, col(Incident.status) != new_status]
    ids = list(await session.exec(select(Incident.id).where(*where).order_by(col(Incident.id)).limit(MAX_BULK + 1)))
    return await set_status_many(session, tenant_id=tenant_id, incident_ids=[i for i in ids if i is not None],
                                 status=new_status, by=by)
