"""The Settings page's Policies card: the readiness rule and the minimum observation span, admins only, checked
field by field, audited, and read by the readiness of namespaces."""

from __future__ import annotations

import pytest

from models.db import session_scope
from models.queries import tenancy
from models.queries.audit import list_audit
from models.queries.namespaces import readiness_rule
from state.base import AppState
from state.settings import SettingsState
from tests.security.conftest import Seeded
from tests.security.test_home_settings import _page

pytestmark = pytest.mark.integration
GOOD = {"readiness_days": "3", "readiness_max_open": "2", "policy_min_observation_hours": "48"}


async def test_policy_settings_are_checked_saved_audited_and_walled(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, bravo = two_tenants
    page = await _page(alpha, "admin")
    save = SettingsState.event_handlers["save_policies"].fn
    await SettingsState.event_handlers["load"].fn(page)
    assert page.policy_values == {
        "readiness_days": "7",
        "readiness_max_open": "0",
        "policy_min_observation_hours": "24",
    }
    await save(page, {**GOOD, "readiness_days": "91", "policy_min_observation_hours": "x"})
    assert page.policy_message == "Not saved: 2 fields to fix (said under each)."
    assert page.policy_problems["readiness_days"] == "a whole number from 0 to 90, not '91'"
    await save(page, GOOD)
    assert page.policy_message.startswith("Saved: enforce needs 3 days in monitor and at most 2 open violations")
    async with session_scope() as session:
        tenant = await tenancy.get_tenant(session, tenant_id=alpha.tenant_id)
        other = await tenancy.get_tenant(session, tenant_id=bravo.tenant_id)
        [entry] = await list_audit(session, tenant_id=alpha.tenant_id, action="tenant.policies")
    assert (readiness_rule(tenant).days, readiness_rule(tenant).max_open) == (3, 2)
    assert tenant.policy_min_observation_hours == 48
    assert (readiness_rule(other).days, readiness_rule(other).max_open) == (7, 0)
    assert (entry.before["readiness_days"], entry.after["readiness_days"]) == (7, 3)
    await save(page, GOOD)
    assert page.policy_message == "Nothing changed: these were already the settings."


async def test_policy_settings_refuse_below_admin(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    page = await _page(alpha, "approver")
    await SettingsState.event_handlers["save_policies"].fn(page, GOOD)
    assert "needs role admin" in (await page.get_state(AppState)).denied
    async with session_scope() as session:
        assert readiness_rule(await tenancy.get_tenant(session, tenant_id=alpha.tenant_id)).days == 7
