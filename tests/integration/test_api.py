"""REST under /api/v1 and the session routes, over real PostgreSQL and Redis."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from jobs.auth.tickets import issue_ticket
from jobs.runtime.connections import get_redis
from jobs.runtime.queue import enqueue_job
from models.db import session_scope
from models.errors import NotFound
from models.queries import jobs as job_queries
from models.queries import tenancy
from tests.builders import bearer, make_tenant

pytestmark = pytest.mark.integration


async def test_health_reports_database_redis_and_workers(client: httpx.AsyncClient, worker_factory: Any) -> None:
    answer = (await client.get("/api/v1/health")).json()
    assert answer == {"status": "degraded", "database": "ok", "redis": "ok", "workers": 0,
                      "queues": {"interactive": 0, "bulk": 0}}
    async with worker_factory():
        answer = (await client.get("/api/v1/health")).json()
    assert answer == {"status": "ok", "database": "ok", "redis": "ok", "workers": 1,
                      "queues": {"interactive": 1, "bulk": 1}}


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer sg_not-a-real-token", "Basic abc"])
async def test_missing_or_wrong_token_is_401_with_error_shape(client: httpx.AsyncClient, header: str | None) -> None:
    await make_tenant("acme")
    headers = {"Authorization": header} if header else {}
    response = await client.get("/api/v1/jobs", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "unauthorized" and body["error"]["message"]
    assert "Traceback" not in response.text


async def test_revoked_token_is_refused(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme")
    async with session_scope() as session:
        tokens = await tenancy.list_api_tokens(session, tenant_id=acme.tenant_id)
        await tenancy.revoke_api_token(session, tenant_id=acme.tenant_id, token_id=tokens[0].id or 0)
    assert (await client.get("/api/v1/jobs", headers=bearer(acme.token))).status_code == 401


async def test_tenant_b_cannot_read_tenant_a_job_runs(client: httpx.AsyncClient) -> None:
    a, b = await make_tenant("alpha"), await make_tenant("bravo")
    run_a = await enqueue_job("ping", tenant_id=a.tenant_id, triggered_by="alice")
    run_b = await enqueue_job("ping", tenant_id=b.tenant_id, triggered_by="bob")

    listed_a = (await client.get("/api/v1/jobs", headers=bearer(a.token))).json()
    listed_b = (await client.get("/api/v1/jobs", headers=bearer(b.token))).json()
    assert [r["id"] for r in listed_a] == [run_a.id]
    assert [r["id"] for r in listed_b] == [run_b.id]

    own = await client.get(f"/api/v1/jobs/{run_a.id}", headers=bearer(a.token))
    assert own.status_code == 200 and own.json()["triggered_by"] == "alice"
    foreign = await client.get(f"/api/v1/jobs/{run_a.id}", headers=bearer(b.token))
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    assert "alice" not in foreign.text

    async with session_scope() as session:
        with pytest.raises(NotFound):
            await job_queries.get_job_run(session, tenant_id=b.tenant_id, job_run_id=run_a.id or 0)
        assert [r.id for r in await job_queries.list_job_runs(session, tenant_id=b.tenant_id)] == [run_b.id]
        counts = await job_queries.count_job_runs_by_status(session, tenant_id=b.tenant_id)
        assert counts["queued"] == 1


async def test_job_list_filters_and_validates(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme")
    await enqueue_job("ping", tenant_id=acme.tenant_id, triggered_by="t")
    assert len((await client.get("/api/v1/jobs?status=queued", headers=bearer(acme.token))).json()) == 1
    assert (await client.get("/api/v1/jobs?status=succeeded", headers=bearer(acme.token))).json() == []
    bad = await client.get("/api/v1/jobs?status=nonsense", headers=bearer(acme.token))
    assert bad.status_code == 422 and "status must be one of" in bad.json()["error"]["message"]
    bad_limit = await client.get("/api/v1/jobs?limit=0", headers=bearer(acme.token))
    assert bad_limit.status_code == 422 and bad_limit.json()["error"]["code"] == "invalid_request"


async def test_login_ticket_opens_a_server_side_session_once(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme")
    async with session_scope() as session:
        user = await tenancy.authenticate(session, email=acme.admin_email, password=acme.password)
    assert user is not None
    ticket = await issue_ticket(get_redis(), user_id=user.id or 0, nonce="nonce-acme")
    browser = {"Cookie": "sg_login_nonce=nonce-acme"}  # the nonce the login form's browser had

    response = await client.post("/auth/session", data={"ticket": ticket, "next": "/jobs"}, headers=browser)
    assert response.status_code == 303 and response.headers["location"] == "/jobs"
    cookie_header = response.headers["set-cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=lax" in cookie_header
    cookie = response.cookies["sg_session"]
    async with session_scope() as session:
        found = await tenancy.resolve_session(session, cookie_value=cookie, idle_minutes=30)
    assert found is not None and found[0].tenant_id == acme.tenant_id

    replay = await client.post("/auth/session", data={"ticket": ticket}, headers=browser)
    assert replay.headers["location"] == "/login?error=expired"

    await client.post("/auth/logout", headers={"Cookie": f"sg_session={cookie}"})
    async with session_scope() as session:
        assert await tenancy.resolve_session(session, cookie_value=cookie, idle_minutes=30) is None


async def test_open_redirects_are_refused(client: httpx.AsyncClient) -> None:
    acme = await make_tenant("acme")
    async with session_scope() as session:
        user = await tenancy.authenticate(session, email=acme.admin_email, password=acme.password)
    ticket = await issue_ticket(get_redis(), user_id=user.id or 0, nonce="nonce-acme")  # type: ignore[union-attr]
    response = await client.post("/auth/session", data={"ticket": ticket, "next": "//evil.example/x"},
                                 headers={"Cookie": "sg_login_nonce=nonce-acme"})
    assert response.headers["location"] == "/"


async def test_wrong_password_and_disabled_user_do_not_authenticate(app_ctx: str) -> None:
    acme = await make_tenant("acme")
    async with session_scope() as session:
        assert await tenancy.authenticate(session, email=acme.admin_email, password="wrong-password") is None
        assert await tenancy.authenticate(session, email="nobody@x.test", password=acme.password) is None
        user = await tenancy.authenticate(session, email=acme.admin_email.upper(), password=acme.password)
        assert user is not None
        user.disabled = True
        session.add(user)
    async with session_scope() as session:
        assert await tenancy.authenticate(session, email=acme.admin_email, password=acme.password) is None
