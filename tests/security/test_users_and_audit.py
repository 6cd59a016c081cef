"""Users page (invite by one-time link, roles, disable, last-admin guard), the audit log (filters, CSV, REST),
errors without stack traces or secrets, and security headers on API answers."""

from __future__ import annotations

import csv
import io
import logging
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from reflex.state import State
from reflex_base import constants

from dashboard.api.app import build_api
from dashboard.api.headers import SECURITY_HEADERS
from models.db import session_scope
from models.queries import tenancy
from models.queries.audit import AuditFilter, list_audit, record_audit
from state.base import AppState
from state.tokens import TokensState
from state.users import SetPasswordState, UsersState, issue_password_link, redeem_password_link
from tests.security.conftest import Seeded

pytestmark = pytest.mark.integration


async def _as(tenant: Seeded, role: str, cls: type[AppState]) -> AppState:
    root = State(_reflex_internal_init=True)
    app_state = await root.get_state(AppState)
    app_state._user_id, app_state._tenant_id, app_state._role = tenant.users[role], tenant.tenant_id, role
    app_state.user_email = tenant.email(role)
    return await root.get_state(cls)


async def test_invite_with_a_one_time_link_then_sign_in(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    users = await _as(alpha, "admin", UsersState)
    assert isinstance(users, UsersState)
    await UsersState.event_handlers["create_user"].fn(users, {"email": "New.Person@alpha.test", "role": "analyst"})
    assert not users.is_error and users.new_link.startswith("http")
    assert {"email": "new.person@alpha.test", "state": "invited", "role": "analyst"}.items() <= next(
        u for u in users.users if u["email"] == "new.person@alpha.test").items()
    link = parse_qs(urlparse(users.new_link).query)["link"][0]
    async with session_scope() as session:  # no password yet: nobody can sign in as the invitee
        assert await tenancy.authenticate(session, email="new.person@alpha.test", password="") is None

    async def set_password(password: str, again: str) -> SetPasswordState:
        root = State(_reflex_internal_init=True)
        root.router_data = root._update_router_vars({constants.RouteVar.QUERY: {"link": link},
                                                     constants.RouteVar.PATH: "/set-password"}, {})
        page = await root.get_state(SetPasswordState)
        SetPasswordState.event_handlers["load"].fn(page)
        page._link = link
        await SetPasswordState.event_handlers["set_password"].fn(page, {"password": password, "again": again})
        return page

    mismatch = await set_password("a-new-password-1", "another-one-22")
    assert mismatch.is_error and "same password twice" in mismatch.message
    done = await set_password("a-new-password-1", "a-new-password-1")
    assert done.done and not done.is_error
    again = await set_password("third-password-3", "third-password-3")
    assert again.is_error and "already used" in again.message
    async with session_scope() as session:
        assert await tenancy.authenticate(session, email="new.person@alpha.test", password="a-new-password-1")
        actions = [e.action for e in await list_audit(session, tenant_id=alpha.tenant_id)]
    assert "user.create" in actions and "user.password_set" in actions


async def _confirm(users: UsersState, user_id: int, action: str, role: str = "") -> None:
    UsersState.event_handlers["ask"].fn(users, str(user_id), action, role)
    await UsersState.event_handlers["confirm"].fn(users)


async def test_the_last_admin_can_neither_be_demoted_nor_disabled(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    users = await _as(alpha, "admin", UsersState)
    assert isinstance(users, UsersState)
    await UsersState.event_handlers["load"].fn(users)
    me = alpha.users["admin"]
    await _confirm(users, me, "role", "viewer")
    assert users.is_error and "last admin" in users.message
    await _confirm(users, me, "disable")
    assert users.is_error and "last admin" in users.message
    # With a second admin the first may step down; every change is audited with before and after.
    await _confirm(users, alpha.users["approver"], "role", "admin")
    await _confirm(users, me, "role", "analyst")
    assert not users.is_error and users.message.endswith("is now analyst.")
    async with session_scope() as session:
        roles = [(e.target, e.before, e.after) for e in await list_audit(session, tenant_id=alpha.tenant_id,
                                                                          action="user.role")]
    assert roles[0] == (f"user #{me} {alpha.email('admin')}", {"role": "admin"}, {"role": "analyst"})


async def test_rest_users_routes_keep_the_last_admin_and_audit(two_tenants: tuple[Seeded, Seeded],
                                                               api_client: httpx.AsyncClient) -> None:
    alpha, _ = two_tenants
    admin = {"Authorization": f"Bearer {alpha.tokens['admin']}"}
    listed = (await api_client.get("/api/v1/users", headers=admin)).json()
    assert {u["email"] for u in listed} == {alpha.email(r) for r in ("viewer", "analyst", "approver", "admin")}
    assert all("password_hash" not in u for u in listed)
    refused = await api_client.patch(f"/api/v1/users/{alpha.users['admin']}", json={"disabled": True}, headers=admin)
    assert refused.status_code == 409 and "last admin" in refused.json()["error"]["message"]
    done = await api_client.patch(f"/api/v1/users/{alpha.users['viewer']}", json={"disabled": True, "role": "analyst"},
                                  headers=admin)
    assert done.status_code == 200 and done.json()["disabled"] and done.json()["role"] == "analyst"
    bad = await api_client.patch(f"/api/v1/users/{alpha.users['viewer']}", json={"role": "root"}, headers=admin)
    assert bad.status_code == 422


async def test_token_create_and_revoke_are_audited(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    tokens = await _as(alpha, "admin", TokensState)
    assert isinstance(tokens, TokensState)
    await TokensState.event_handlers["create_token"].fn(tokens, {"name": "collector", "role": "analyst"})
    created = next(t for t in tokens.tokens if t["name"] == "collector")
    TokensState.event_handlers["ask_revoke"].fn(tokens, created["id"])
    await TokensState.event_handlers["revoke_token"].fn(tokens)
    async with session_scope() as session:
        entries = await list_audit(session, tenant_id=alpha.tenant_id, where=AuditFilter(actor=alpha.email("admin")))
    assert [e.action for e in entries[:2]] == ["token.revoke", "token.create"]


async def test_rest_audit_filters_pages_and_exports_csv(two_tenants: tuple[Seeded, Seeded],
                                                        api_client: httpx.AsyncClient) -> None:
    alpha, bravo = two_tenants
    async with session_scope() as session:
        for i in range(5):
            await record_audit(session, tenant_id=alpha.tenant_id, actor=f"robot{i}@x.test", action="job.retry",
                               target=f"job #{i}")
        await record_audit(session, tenant_id=alpha.tenant_id, actor="=cmd|' /C calc'!A0", action="drift_event.status",
                           target="100%_literal", after={"status": "resolved"})
    approver = {"Authorization": f"Bearer {alpha.tokens['approver']}"}
    newest = (await api_client.get("/api/v1/audit", params={"limit": 2}, headers=approver)).json()
    assert [e["action"] for e in newest] == ["drift_event.status", "job.retry"] and newest[0]["id"] > newest[1]["id"]
    retries = (await api_client.get("/api/v1/audit", params={"action": "job.retry"}, headers=approver)).json()
    assert len(retries) == 5
    assert [e["actor"] for e in (await api_client.get("/api/v1/audit", params={"actor": "robot3"},
                                                      headers=approver)).json()] == ["robot3@x.test"]
    # % and _ in the text are literal, not wildcards
    assert len((await api_client.get("/api/v1/audit", params={"q": "100%_lit"}, headers=approver)).json()) == 1
    assert (await api_client.get("/api/v1/audit", params={"q": "100%x"}, headers=approver)).json() == []
    assert (await api_client.get("/api/v1/audit", params={"since": "2999-01-01"}, headers=approver)).json() == []
    bad = await api_client.get("/api/v1/audit", params={"since": "yesterday"}, headers=approver)
    assert bad.status_code == 422 and "ISO 8601" in bad.json()["error"]["message"]
    exported = await api_client.get("/api/v1/audit", params={"format": "csv"}, headers=approver)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["id", "created_at", "actor", "action", "target", "before", "after", "client_ip"]
    assert rows[1][2] == "'=cmd|' /C calc'!A0", "a formula-looking cell is defused"
    assert rows[1][6] == '{"status": "resolved"}'
    other = (await api_client.get("/api/v1/audit", headers={"Authorization": f"Bearer {bravo.tokens['admin']}"}))
    assert all("robot" not in e["actor"] for e in other.json())
    analyst = await api_client.get("/api/v1/audit", headers={"Authorization": f"Bearer {alpha.tokens['analyst']}"})
    assert analyst.status_code == 403


async def test_unexpected_errors_answer_500_without_trace_or_secret(app_ctx: str,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    api = build_api()

    @api.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("cannot reach postgresql://sg:hunter2-secret@db/sg with token=sg_abcdefghijkl")

    transport = httpx.ASGITransport(app=api, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="dashboard.api.errors"):
        async with httpx.AsyncClient(transport=transport, base_url="http://sg.test") as client:
            response = await client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error",
                                         "message": "internal error: the server logged the details"}}
    assert "Traceback" not in response.text and "hunter2" not in response.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "Traceback" in logged
    assert "hunter2" not in logged and "sg_abcdefghijkl" not in logged
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_api_answers_carry_the_security_headers(two_tenants: tuple[Seeded, Seeded],
                                                      api_client: httpx.AsyncClient) -> None:
    for response in (await api_client.get("/api/v1/health"), await api_client.get("/api/v1/jobs"),
                     await api_client.get("/api/v1/openapi.json")):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (response.url, name)
    assert "frame-ancestors 'none'" in SECURITY_HEADERS["content-security-policy"]


async def test_a_reissued_set_password_link_ends_the_earlier_one(two_tenants: tuple[Seeded, Seeded]) -> None:
    alpha, _ = two_tenants
    first = await issue_password_link(tenant_id=alpha.tenant_id, user_id=alpha.users["analyst"])
    second = await issue_password_link(tenant_id=alpha.tenant_id, user_id=alpha.users["analyst"])
    other = await issue_password_link(tenant_id=alpha.tenant_id, user_id=alpha.users["viewer"])

    def secret(url: str) -> str:
        return parse_qs(urlparse(url).query)["link"][0]

    assert await redeem_password_link(secret(first)) is None  # handed out earlier, then replaced
    assert await redeem_password_link(secret(second)) == (alpha.tenant_id, alpha.users["analyst"])
    assert await redeem_password_link(secret(other)) == (alpha.tenant_id, alpha.users["viewer"])
