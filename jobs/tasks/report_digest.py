"""Scheduled report digests (issue 18 item 4): a cron job that, for each tenant whose setting asks for a daily or
weekly report and whose period is due (`jobs.engines.report.schedule`), builds the period's report and queues one
`report` delivery per enabled integration through the notification outbox, each keyed by tenant, period and
integration so it is queued, and so sent, once. The outbox drain (`jobs.tasks.notify`) sends them with its
retries and rate limits: Slack a Block Kit summary with a link to the Reports page, Jira an issue labelled with
the period, the webhook and Splunk HEC the summary as JSON, syslog a CEF line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobs.engines.report.model import summary_lines
from jobs.engines.report.schedule import DigestSchedule, due_period
from jobs.integrations.notify.notices import report_payload
from jobs.runtime.reports import build_report
from models.db import session_scope
from models.queries import notification_outbox as outbox
from models.queries import report_schedule, tenancy
from models.types import utcnow


async def digest_tenant(tenant_id: int, *, now: datetime) -> int:
    """Queue the tenant's due report digest; returns how many deliveries were queued (0 when not due or queued
    already)."""
    async with session_scope() as session:
        schedule = DigestSchedule.from_setting(await report_schedule.get_digest_setting(session, tenant_id=tenant_id))
    due = due_period(schedule, now)
    if due is None:
        return 0
    async with session_scope() as session:
        targets = await outbox.report_targets(session, tenant_id=tenant_id, period_key=due.key)
    if not targets:
        return 0
    data = await build_report(tenant_id=tenant_id, start=due.start, end=due.end)
    label = "Daily" if schedule.mode == "daily" else "Weekly"
    payload = report_payload(
        title=f"{label} SecureGuard report for {data.tenant}: {data.period}", lines=summary_lines(data),
        url=data.url, severity=data.worst, incidents=data.incident_total, period_key=due.key, start=due.start,
        end=due.end)
    async with session_scope() as session:
        return await outbox.enqueue_report(session, tenant_id=tenant_id, period_key=due.key, integration_ids=targets,
                                           payload=payload, severity=data.worst, incidents=data.incident_total)


async def send_report_digests(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron entry (a system schedule, so it lists tenants): queue every tenant's due report digest."""
    async with session_scope() as session:
        tenant_ids = await tenancy.list_tenant_ids(session)
    now, queued = utcnow(), 0
    for tenant_id in tenant_ids:
        queued += await digest_tenant(tenant_id, now=now)
    return {"queued": queued}
