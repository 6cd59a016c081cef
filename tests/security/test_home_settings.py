"""Home settings over REST (`/api/v1/settings/home`) and on the Settings page: viewers read, admins change
(audited), bad entries answer 422 / per-line messages, and neither tenant reads or changes the other's."""

from __future__ import annotations

import httpx
import pytest
from reflex.state import State

from models.db import session_scope
from models.queries import tenancy
from models.queries.audit import list_audit
from state.base import AppState
from state.settings import SettingsState, entries_of
from tests.security.conftest import Seeded

pytestmark = pytest.mark.integration
URL = "/api/v1/settings/home"
ALPHA_HOME = {"home_networks": ["198.51.100.0/24"], "sensors": ["64.225.56.201"], "home_private": False}


def _auth(tenant: Seeded, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.tokens[role]}"}


async def _stored(tenant: Seeded) -> tuple[list[str], list[str], bool]:
    async with session_scope() as session:
        row = await tenancy.get_tenant(session, tenant_id=tenant.tenant_id)
    return row.home_networks, row.sensors, row.home_private


async def test_admin_puts_viewer_reads_and_the_change_is_audited(two_tenants: tuple[Seeded, Seeded],
                                                                 api_client: httpx.AsyncClient) -> None:
    alpha, _ = two_tenants
    fresh = await api_client.get(URL, headers=_auth(alpha, "viewer"))
    assert fresh.status_code == 200 and fresh.json() == {"home_networks": [], "sensors": [], "home_private": True}
    body = {**ALPHA_HOME, "home_networks": ["198.51.100.0/24", "2001:DB8::/32", "198.51.100.0/24"]}
    put = await api_client.put(URL, json=body, headers=_auth(alpha, "admin"))
    assert put.status_code == 200
    assert put.json() == {**ALPHA_HOME, "home_networks": ["198.51.100.0/24", "2001:db8::/32"]}
    assert (await api_client.get(URL, headers=_auth(alpha, "viewer"))).json() == put.json()
    async with session_scope() as session:
        entries = await list_audit(session, tenant_id=alpha.tenant_id, action="tenant.home")
    assert len(entries) == 1 and entries[0].actor.startswith("token:")
    assert entries[0].before == {"home_networks": [], "sensors": [], "home_private": True}
    assert entries[0].after == put.json()
    # The same settings again change nothing and add no audit entry.
    assert (await api_client.put(URL, json=put.json(), headers=_auth(alpha, "admin"))).status_code == 200
    async with session_scope() as session:
        assert len(await list_audit(session, tenant_id=alpha.tenant_id, action="tenant.home")) == 1


@pytest.mark.parametrize("role", ["viewer", "analyst", "approver"])
async def test_below_admin_cannot_put(role: str, two_tenants: tuple[Seeded, Seeded],
                                      api_client: httpx.AsyncClient) -> None:
    alpha, _ = two_tenants
    refused = await api_client.put(URL, json=ALPHA_HOME, headers=_auth(alpha, role))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert await _stored(alpha) == ([], [], True)


async def test_bad_input_answers_422_naming_the_entry_and_saves_nothing(two_tenants: tuple[Seeded, Seeded],
                                                                        api_client: httpx.AsyncClient) -> None:
    alpha, _ = two_tenants
    admin = _auth(alpha, "admin")
    host_bits = await api_client.put(URL, json={**ALPHA_HOME, "home_networks": ["10.0.0.1/8"]}, headers=admin)
    assert host_bits.status_code == 422
    assert host_bits.json()["error"] == {
        "code": "invalid_request",
        "message": 'home settings not saved: home network 1 "10.0.0.1/8": host bits are set: the network is '
                   "10.0.0.0/8 (or write 10.0.0.1 alone for that one host)"}
    for bad in ({**ALPHA_HOME, "sensors": ["10.0.0.0/24"]},
                {"networks": ["10.0.0.0/8"], "sensors": [], "home_private": True},  # a misspelt key
                {"home_networks": ["10.0.0.0/8"], "sensors": []},                    # the whole setting, or nothing
                {**ALPHA_HOME, "home_networks": "10.0.0.0/8"},
                {**ALPHA_HOME, "sensors": [f"192.0.2.{i}" for i in range(1, 66)]}):
        answer = await api_client.put(URL, json=bad, headers=admin)
        assert answer.status_code == 422, (bad, answer.text)
    assert await _stored(alpha) == ([], [], True)


async def test_tenant_b_neither_reads_nor_changes_tenant_a(two_tenants: tuple[Seeded, Seeded],
                                                           api_client: httpx.AsyncClient) -> None:
    alpha, bravo = two_tenants
    assert (await api_client.put(URL, json=ALPHA_HOME, headers=_auth(alpha, "admin"))).status_code == 200
    seen_by_b = await api_client.get(URL, headers=_auth(bravo, "admin"))
    assert seen_by_b.json() == {"home_networks": [], "sensors": [], "home_private": True}
    b_home = {"home_networks": ["192.0.2.0/24"], "sensors": [], "home_private": True}
    assert (await api_client.put(URL, json=b_home, headers=_auth(bravo, "admin"))).json() == b_home
    assert await _stored(alpha) == (["198.51.100.0/24"], ["64.225.56.201"], False)
    assert await _stored(bravo) == (["192.0.2.0/24"], [], True)


async def _page(tenant: Seeded, role: str) -> SettingsState:
    root = State(_reflex_internal_init=True)
    app_state = await root.get_state(AppState)
    app_state._user_id, app_state._tenant_id, app_state._role = tenant.users[role], tenant.tenant_id, role
    app_state.user_email, app_state.tenant_name, app_state.role = tenant.email(role), tenant.name, role
    page = await root.get_state(SettingsState)
    assert isinstance(page, SettingsState)
    return page


def test_lines_are_read_with_their_numbers() -> None:
    assert entries_of("10.0.0.0/8\n\n  192.0.2.0/24, 198.51.100.0/24 \r\n") == [
        (1, "10.0.0.0/8"), (3, "192.0.2.0/24"), (3, "198.51.100.0/24")]


async def test_the_page_lists_each_bad_line_then_saves_with_an_audit(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, bravo = two_tenants
    page = await _page(alpha, "admin")
    save = SettingsState.event_handlers["save"].fn
    await SettingsState.event_handlers["load"].fn(page)
    assert (page.networks_text, page.sensors_text, page.home_private) == ("", "", True)
    key = page.form_key
    await save(page, {"home_networks": "198.51.100.0/24\n\n10.0.0.1/8\nlan", "sensors": "64.225.56.201/32"})
    assert page.is_error and page.message == "Not saved: 3 lines to fix (listed under each field)."
    assert page.network_problems == [
        'line 3 "10.0.0.1/8": host bits are set: the network is 10.0.0.0/8 (or write 10.0.0.1 alone for that '
        "one host)",
        'line 4 "lan": not a network: write a CIDR such as 192.0.2.0/24 or 2001:db8::/32, or one address']
    assert page.sensor_problems == ['line 1 "64.225.56.201/32": a sensor is one address: write 64.225.56.201 alone']
    assert page.form_key == key  # the form keeps what the user typed
    assert await _stored(alpha) == ([], [], True)

    # Unticked, the checkbox submits nothing: the private ranges stop counting.
    await save(page, {"home_networks": "198.51.100.0/24\n2001:DB8::/32\n198.51.100.0/24",
                      "sensors": "64.225.56.201", "settings_home_private": False})
    assert not page.is_error and page.network_problems == [] and page.sensor_problems == []
    assert page.message.startswith("Saved: 2 home networks, 1 sensor; the private ranges do not count as home. "
                                   "1 duplicate dropped.")
    assert (page.networks_text, page.sensors_text, page.home_private) == (
        "198.51.100.0/24\n2001:db8::/32", "64.225.56.201", False)
    assert page.form_key > key
    assert await _stored(alpha) == (["198.51.100.0/24", "2001:db8::/32"], ["64.225.56.201"], False)
    async with session_scope() as session:
        [entry] = await list_audit(session, tenant_id=alpha.tenant_id, action="tenant.home")
    assert (entry.actor, entry.before["home_private"], entry.after["sensors"]) == (
        alpha.email("admin"), True, ["64.225.56.201"])

    # The same again (the checkbox still unticked) is not a change: no second audit entry.
    await save(page, {"home_networks": "198.51.100.0/24\n2001:db8::/32", "sensors": "64.225.56.201"})
    assert page.message == "Nothing changed: these were already the settings." and not page.is_error
    await save(page, {"home_networks": "198.51.100.0/24\n2001:db8::/32", "sensors": "64.225.56.201",
                      "home_private": "on", "settings_home_private": True})
    assert page.message.startswith("Saved: 2 home networks, 1 sensor; the private ranges count as home. Windows")
    async with session_scope() as session:
        assert len(await list_audit(session, tenant_id=alpha.tenant_id, action="tenant.home")) == 2
    assert await _stored(bravo) == ([], [], True)


async def test_the_page_refuses_below_admin(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    page = await _page(alpha, "analyst")
    await SettingsState.event_handlers["save"].fn(page, {"home_networks": "198.51.100.0/24", "sensors": ""})
    await SettingsState.event_handlers["load"].fn(page)
    assert page.networks_text == "" and page.message == ""
    app_state = await page.get_state(AppState)
    assert "needs role admin" in app_state.denied
    assert await _stored(alpha) == ([], [], True)
