"""Routing the claimed deliveries of one integration before sending: each becomes a notice to send now (its
incident read as it is, or a test, or a scheduled report from its payload, through the integration's template), or
is settled at once: skipped with the reason, held until quiet hours end, or failed (broken routing or template).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from jobs.engines.notify.notice import Notice
from jobs.engines.notify.routing import Route
from jobs.engines.notify.template import apply as apply_template
from jobs.integrations.notify.notices import notice_of, report_notice, sample_notice
from models.db import session_scope
from models.incidents import Incident
from models.notifications import Integration, NotificationDelivery
from models.queries import notification_outbox as outbox
from models.settings import get_settings


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What routing made of one claimed row: a notice to send, or a status (with reason, and a time if held)."""

    notice: Notice | None = None
    status: str = ""
    reason: str = ""
    retry_at: datetime | None = None


def _route_row(
    row: NotificationDelivery,
    incident: Incident | None,
    integration: Integration,
    route: Route | None,
    broken: str,
    now: datetime,
) -> _Verdict:
    base = get_settings().base_url
    if row.kind == "digest":
        return _Verdict(status="failed", reason="interrupted before the answer was recorded; its incidents are retried")
    if row.kind == "test":
        return _Verdict(notice=sample_notice(name=integration.name, now=now, base_url=base))
    if row.kind == "report":
        if not row.payload:
            return _Verdict(status="failed", reason="a report delivery without its message")
        return _Verdict(notice=report_notice(row.payload, now=now))
    if route is None:
        return _Verdict(status="failed", reason=broken)
    if not integration.enabled:
        return _Verdict(status="skipped", reason="integration is disabled")
    if incident is None:
        return _Verdict(status="skipped", reason="the incident no longer exists")
    notice = notice_of(incident, kind=row.kind, base_url=base)
    decision = route.decide(notice, now)
    if not decision.send:
        return _Verdict(status="skipped", reason=decision.reason)
    if decision.not_before is not None:
        return _Verdict(status="pending", reason=decision.reason, retry_at=decision.not_before)
    return _Verdict(notice=notice)


async def prepare(
    tenant_id: int, integration: Integration, rows: list[NotificationDelivery], now: datetime
) -> tuple[list[NotificationDelivery], dict[int, Notice]]:
    """Route the claimed rows: those to send now with their notices; the rest settled (skipped, held, failed)."""
    ready: list[NotificationDelivery] = []
    notices: dict[int, Notice] = {}
    route, broken = None, ""
    try:
        route = Route.from_config(integration.routing, min_severity=integration.min_severity)
    except ValueError as exc:
        broken = f"routing of this integration is invalid: {exc}"
    async with session_scope() as session:
        ids = [r.incident_id for r in rows if r.incident_id is not None]
        query = select(Incident).where(Incident.tenant_id == tenant_id, col(Incident.id).in_(ids))
        found = {int(i.id or 0): i for i in await session.exec(query)} if ids else {}
        for row in rows:
            verdict = _route_row(row, found.get(int(row.incident_id or 0)), integration, route, broken, now)
            if verdict.notice is not None:
                notices[int(row.id or 0)] = verdict.notice
                ready.append(row)
                continue
            await outbox.settle(
                session,
                tenant_id=tenant_id,
                delivery_id=int(row.id or 0),
                status=verdict.status,
                error=verdict.reason,
                retry_at=verdict.retry_at,
                uncount=verdict.retry_at is not None,
            )
        for row, reason in _apply_template(integration.template, ready, notices):
            ready.remove(row)
            await outbox.settle(
                session, tenant_id=tenant_id, delivery_id=int(row.id or 0), status="failed", error=reason
            )
    return ready, notices


def _apply_template(
    template: str, rows: Sequence[NotificationDelivery], notices: dict[int, Notice]
) -> list[tuple[NotificationDelivery, str]]:
    """The integration's template over each ready notice; the rows it cannot render, with the reason."""
    failed = []
    for row in rows:
        try:
            notices[int(row.id or 0)] = apply_template(template, notices[int(row.id or 0)])
        except ValueError as exc:
            failed.append((row, f"the integration's template: {exc}"))
    return failed
