"""The notification outbox: rows written in the incident change's own transaction, claimed and settled by the drain.

`enqueue_incident_notices` is called by `incident_store.upsert_incidents` with the ids it just wrote: for each
enabled integration whose minimum severity the incident reaches, a `new` delivery the first time, and an `update`
when the incident got worse since the last notice (severity up, or events doubled) and no notice is still pending
(a pending one reads the incident as it is when sent). Each row's `idempotency_key` is unique, so a repeated fold
never queues twice. Routing beyond the minimum severity (kinds, namespaces, quiet hours) is the drain's, which can
read the engines (`jobs.engines.notify.routing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import SEVERITIES
from models.incidents import Incident
from models.notifications import MAX_ERROR, Integration, NotificationDelivery
from models.types import utcnow

_RANK = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}
_DELIVERY: sa.Table = NotificationDelivery.__table__  # type: ignore[attr-defined]
CHUNK = 1000
LEASE = timedelta(seconds=60)  # a claimed row comes back to the drain after this if its worker died


async def _insert_ignoring_duplicates(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = (await session.connection()).dialect.name
    insert = postgresql.insert(_DELIVERY) if dialect == "postgresql" else sqlite.insert(_DELIVERY)
    statement = insert.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(_DELIVERY.c.id)
    return len(list(await session.exec(statement, params=rows)))


def _notice_kind(incident: Incident, last: NotificationDelivery | None) -> str | None:
    if last is None:
        return "new"
    if last.status == "pending":
        return None
    worse = _RANK[incident.severity] > _RANK.get(last.severity, 0)
    grew = incident.events >= 2 * max(last.events, 1)
    return "update" if worse or grew else None


async def _latest(
    session: AsyncSession, *, tenant_id: int, incident_ids: Sequence[int]
) -> dict[tuple[int, int], NotificationDelivery]:
    latest: dict[tuple[int, int], NotificationDelivery] = {}
    query = (
        select(NotificationDelivery)
        .where(NotificationDelivery.tenant_id == tenant_id, col(NotificationDelivery.incident_id).in_(incident_ids))
        .order_by(col(NotificationDelivery.id))
    )
    for row in await session.exec(query):
        latest[(row.integration_id, int(row.incident_id or 0))] = row
    return latest


async def enqueue_incident_notices(session: AsyncSession, *, tenant_id: int, incident_ids: Sequence[int]) -> int:
    """Queue the notices these incidents' changes call for, in the caller's transaction; returns how many."""
    integrations = list(
        await session.exec(
            select(Integration).where(
                Integration.tenant_id == tenant_id, col(Integration.enabled).is_(True), Integration.kind != ""
            )
        )
    )
    if not integrations or not incident_ids:
        return 0
    now, queued = utcnow(), 0
    for start in range(0, len(incident_ids), CHUNK):
        ids = list(incident_ids[start : start + CHUNK])
        incidents = list(
            await session.exec(select(Incident).where(Incident.tenant_id == tenant_id, col(Incident.id).in_(ids)))
        )
        latest = await _latest(session, tenant_id=tenant_id, incident_ids=ids)
        rows = []
        for integration in integrations:
            for incident in incidents:
                if _RANK[incident.severity] < _RANK.get(integration.min_severity, 0):
                    continue
                kind = _notice_kind(incident, latest.get((int(integration.id or 0), int(incident.id or 0))))
                if kind is None:
                    continue
                version = "" if kind == "new" else f":{incident.severity}:{incident.events}"
                rows.append(
                    {
                        "tenant_id": tenant_id,
                        "integration_id": integration.id,
                        "incident_id": incident.id,
                        "idempotency_key": f"i{integration.id}:inc{incident.id}:{kind}{version}",
                        "kind": kind,
                        "status": "pending",
                        "severity": incident.severity,
                        "events": incident.events,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "last_error": "",
                        "external_ref": "",
                        "created_at": now,
                    }
                )
        queued += await _insert_ignoring_duplicates(session, rows)
    return queued


async def enqueue_test(session: AsyncSession, *, tenant_id: int, integration: Integration) -> NotificationDelivery:
    """A test message to the integration, queued now (its key is unique per request)."""
    now = utcnow()
    row = NotificationDelivery(
        tenant_id=tenant_id,
        integration_id=int(integration.id or 0),
        incident_id=None,
        kind="test",
        idempotency_key=f"i{integration.id}:test:{now.timestamp():.6f}",
        status="pending",
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


def report_key(tenant_id: int, period_key: str, integration_id: int) -> str:
    """The idempotency key of a scheduled report's delivery to one integration."""
    return f"report:t{tenant_id}:{period_key}:i{integration_id}"[:200]


async def report_targets(session: AsyncSession, *, tenant_id: int, period_key: str) -> list[int]:
    """The tenant's enabled integrations that have no delivery of this period's report yet."""
    enabled = [int(i or 0) for i in await session.exec(
        select(Integration.id).where(Integration.tenant_id == tenant_id, col(Integration.enabled).is_(True)))]
    if not enabled:
        return []
    keys = {report_key(tenant_id, period_key, i): i for i in enabled}
    done = set(await session.exec(select(NotificationDelivery.idempotency_key).where(
        NotificationDelivery.tenant_id == tenant_id, col(NotificationDelivery.idempotency_key).in_(list(keys)))))
    return sorted(i for key, i in keys.items() if key not in done)


async def enqueue_report(
    session: AsyncSession, *, tenant_id: int, period_key: str, integration_ids: Sequence[int],
    payload: dict[str, Any], severity: str, incidents: int,
) -> int:
    """A scheduled report's digest to each of the tenant's integrations given, once per period: the key
    (`report_key`) is unique, so a second run queues nothing. Returns how many were queued."""
    owned = set(await session.exec(select(Integration.id).where(
        Integration.tenant_id == tenant_id, col(Integration.id).in_(list(integration_ids)))))
    now = utcnow()
    rows = [
        {
            "tenant_id": tenant_id, "integration_id": integration_id, "incident_id": None,
            "idempotency_key": report_key(tenant_id, period_key, integration_id), "kind": "report",
            "status": "pending", "severity": severity, "events": incidents, "attempts": 0, "next_attempt_at": now,
            "last_error": "", "external_ref": "", "created_at": now, "payload": payload,
        }
        for integration_id in integration_ids if integration_id in owned
    ]
    return await _insert_ignoring_duplicates(session, rows)


async def due_integration_ids(session: AsyncSession, *, tenant_id: int, now: datetime) -> list[int]:
    """The tenant's integrations with a delivery due now."""
    query = (
        select(NotificationDelivery.integration_id)
        .where(
            NotificationDelivery.tenant_id == tenant_id,
            NotificationDelivery.status == "pending",
            col(NotificationDelivery.next_attempt_at) <= now,
        )
        .distinct()
    )
    return sorted(int(value) for value in await session.exec(query))


async def claim_due(
    session: AsyncSession, *, tenant_id: int, integration_id: int, now: datetime, limit: int = 500
) -> list[NotificationDelivery]:
    """Due deliveries of one integration, locked (others' drains skip them) and leased: each try is counted
    before it is made, and a worker killed mid-send leaves the row to come back after the lease."""
    query = (
        select(NotificationDelivery)
        .where(
            NotificationDelivery.tenant_id == tenant_id,
            NotificationDelivery.integration_id == integration_id,
            NotificationDelivery.status == "pending",
            col(NotificationDelivery.next_attempt_at) <= now,
        )
        .order_by(col(NotificationDelivery.next_attempt_at), col(NotificationDelivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(await session.exec(query))
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        session.add(row)
    await session.flush()
    return rows


async def settle(
    session: AsyncSession,
    *,
    tenant_id: int,
    delivery_id: int,
    status: str,
    error: str = "",
    latency_ms: int | None = None,
    external_ref: str = "",
    retry_at: datetime | None = None,
    digest_id: int | None = None,
    uncount: bool = False,
) -> NotificationDelivery:
    """Record what became of a try: sent, failed (permanent), dead (out of tries), skipped, or pending again at
    `retry_at`; `uncount` gives back the try its claim counted (none was made: held or released)."""
    row = (
        await session.exec(
            select(NotificationDelivery).where(
                NotificationDelivery.tenant_id == tenant_id, NotificationDelivery.id == delivery_id
            )
        )
    ).one()
    row.status, row.last_error = status, error[:MAX_ERROR]
    if latency_ms is not None:
        row.latency_ms = latency_ms
    if external_ref:
        row.external_ref = external_ref[:200]
    if digest_id is not None:
        row.digest_id = digest_id
    if status == "sent":
        row.sent_at = utcnow()
    if retry_at is not None:
        row.next_attempt_at = retry_at
    if uncount:
        row.attempts = max(0, row.attempts - 1)
    session.add(row)
    await session.flush()
    return row


async def external_ref_of(session: AsyncSession, *, tenant_id: int, integration_id: int, incident_id: int) -> str:
    """The receiver's reference (a Jira issue key) of the incident's first sent notice, '' if none yet."""
    query = (
        select(NotificationDelivery.external_ref)
        .where(
            NotificationDelivery.tenant_id == tenant_id,
            NotificationDelivery.integration_id == integration_id,
            NotificationDelivery.incident_id == incident_id,
            NotificationDelivery.external_ref != "",
        )
        .order_by(col(NotificationDelivery.id))
        .limit(1)
    )
    return str((await session.exec(query)).first() or "")


async def list_deliveries(
    session: AsyncSession, *, tenant_id: int, integration_id: int, limit: int = 100
) -> list[NotificationDelivery]:
    """The integration's deliveries, newest first."""
    query = (
        select(NotificationDelivery)
        .where(NotificationDelivery.tenant_id == tenant_id, NotificationDelivery.integration_id == integration_id)
        .order_by(col(NotificationDelivery.id).desc())
        .limit(limit)
    )
    return list(await session.exec(query))


async def delete_deliveries(session: AsyncSession, *, tenant_id: int, integration_id: int) -> None:
    """Every delivery of an integration (before the integration goes; SQLite enforces no cascade)."""
    await session.exec(
        sa.delete(NotificationDelivery).where(
            col(NotificationDelivery.tenant_id) == tenant_id, col(NotificationDelivery.integration_id) == integration_id
        )
    )


async def mark_integration_sent(session: AsyncSession, *, tenant_id: int, integration_id: int, at: datetime) -> None:
    """Remember the last send, for the per-integration rate limit."""
    await session.exec(
        sa.update(Integration)
        .where(col(Integration.tenant_id) == tenant_id, col(Integration.id) == integration_id)
        .values(last_sent_at=at)
    )
