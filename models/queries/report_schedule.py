"""A tenant's scheduled report digest setting (`Tenant.settings["report_digest"]`): `{"mode": "off"|"daily"|
"weekly", "hour": 0-23 (UTC), "since": ISO time it was set}`. The caller checks the value
(`jobs.engines.report.schedule.DigestSchedule`); saving is audited. `jobs.tasks.report_digest` reads it."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models.queries.audit import record_audit
from models.queries.tenancy import get_tenant

SETTING = "report_digest"


async def get_digest_setting(session: AsyncSession, *, tenant_id: int) -> dict[str, Any]:
    """The stored setting ({} when never set: off)."""
    tenant = await get_tenant(session, tenant_id=tenant_id)
    value = tenant.settings.get(SETTING)
    return dict(value) if isinstance(value, dict) else {}


async def set_digest_setting(session: AsyncSession, *, tenant_id: int, actor: str, value: dict[str, Any]) -> None:
    """Store the setting (already checked by the caller) and audit the change."""
    tenant = await get_tenant(session, tenant_id=tenant_id)
    before = tenant.settings.get(SETTING)
    tenant.settings = {**tenant.settings, SETTING: dict(value)}
    session.add(tenant)
    await record_audit(session, tenant_id=tenant_id, actor=actor, action="settings.report_digest",
                       target=SETTING, before={SETTING: before}, after={SETTING: dict(value)})
