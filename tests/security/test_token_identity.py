"""Tokens are not people: each token acts for one user (or a service that can never approve), four eyes compares
those people, and a token's rights end with its user's (disabled → refused, demoted → the lower role)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from models import migrate
from models.db import session_scope
from models.errors import Forbidden
from models.policy import Policy
from models.queries import policies as policy_queries
from models.queries import tenancy
from state.tokens import TokensState
from tests.conftest import ROOT, create_database, drop_database
from tests.security.conftest import Seeded, call_handler

pytestmark = pytest.mark.integration


async def sg(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv/bin/sg"), *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode().strip(), err.decode()


async def cli_token(tenant: Seeded, role: str, *who: str) -> str:
    code, secret, err = await sg("token", "create", "--tenant", tenant.name, "--role", role, *who)
    assert code == 0, err
    return secret


async def draft_policy(tenant: Seeded, name: str) -> int:
    async with session_scope() as session:
        row = Policy(tenant_id=tenant.tenant_id, name=name, namespace="ns", status="draft", yaml="kind: x\n")
        session.add(row)
        await session.flush()
        return row.id or 0


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_four_eyes_compares_the_people_behind_tokens(
    two_tenants: tuple[Seeded, Seeded], api_client: httpx.AsyncClient
) -> None:
    alpha, _ = two_tenants
    alice, admin = alpha.email("approver"), alpha.email("admin")
    alice_1 = await cli_token(alpha, "approver", "--user", alice)
    alice_2 = await cli_token(alpha, "approver", "--user", alice)
    admins = await cli_token(alpha, "approver", "--user", admin)
    first = await draft_policy(alpha, "first")
    assert (await api_client.post(f"/api/v1/policies/{first}/submit", json={}, headers=bearer(alice_1))).status_code == 200
    own = await api_client.post(f"/api/v1/policies/{first}/approve", json={}, headers=bearer(alice_2))
    assert own.status_code == 403 and "four-eyes" in own.json()["error"]["message"]
    # Her login is the same person as her token, whoever made the token.
    async with session_scope() as session:
        with pytest.raises(Forbidden, match="four-eyes"):
            await policy_queries.approve_policy(session, tenant_id=alpha.tenant_id, policy_id=first, actor=alice,
                                                role="approver")
    # Two people: accepted.
    other = await api_client.post(f"/api/v1/policies/{first}/approve", json={}, headers=bearer(admins))
    assert other.status_code == 200 and other.json()["status"] == "approved"


async def test_two_cli_tokens_of_two_people_are_two_people(
    two_tenants: tuple[Seeded, Seeded], api_client: httpx.AsyncClient
) -> None:
    alpha, _ = two_tenants
    analyst = await cli_token(alpha, "analyst", "--user", alpha.email("analyst"))
    approver = await cli_token(alpha, "approver", "--user", alpha.email("approver"))
    policy = await draft_policy(alpha, "second")
    assert (await api_client.post(f"/api/v1/policies/{policy}/submit", json={}, headers=bearer(analyst))).status_code == 200
    approved = await api_client.post(f"/api/v1/policies/{policy}/approve", json={}, headers=bearer(approver))
    assert approved.status_code == 200


async def test_service_tokens_never_approve_or_administer(
    two_tenants: tuple[Seeded, Seeded], api_client: httpx.AsyncClient
) -> None:
    alpha, _ = two_tenants
    code, _, err = await sg("token", "create", "--tenant", alpha.name, "--role", "approver", "--service", "ci")
    assert code == 1 and "--user" in err
    code, _, err = await sg("token", "create", "--tenant", alpha.name, "--role", "analyst", "--user", "x@y.z",
                            "--service", "ci")
    assert code == 2 and "not both" in err
    collector = await cli_token(alpha, "analyst", "--service", "zeek-collector")
    assert (await api_client.get("/api/v1/jobs", headers=bearer(collector))).status_code == 200
    policy = await draft_policy(alpha, "third")
    assert (await api_client.post(f"/api/v1/policies/{policy}/submit", json={}, headers=bearer(collector))).status_code == 200
    async with session_scope() as session:
        row = await session.get(Policy, policy)
        assert row is not None and row.submitted_by.endswith("(service:zeek-collector)")


async def _ui_token(tenant: Seeded, role: str, spy: list[tuple[str, bool]]) -> str:
    """A token the tenant's admin makes on the Sources page."""
    call = await call_handler(TokensState, "create_token", ({"name": "laptop", "role": role},), {},
                              tenant=tenant, role="admin", spy=spy)
    state = await call.root.get_state(TokensState)
    assert state.new_secret.startswith("sg_"), state.token_message
    return state.new_secret


async def _second_admin(tenant: Seeded) -> int:
    async with session_scope() as session:
        user = await tenancy.create_user(session, tenant_id=tenant.tenant_id, email=f"boss@{tenant.name}.test",
                                         role="admin", password="correct-horse-1")
        return user.id or 0


async def test_a_disabled_admins_token_is_refused_and_cannot_re_enable_them(
    two_tenants: tuple[Seeded, Seeded], api_client: httpx.AsyncClient, require_spy: list[tuple[str, bool]]
) -> None:
    alpha, _ = two_tenants
    secret = await _ui_token(alpha, "admin", require_spy)
    assert (await api_client.get("/api/v1/users", headers=bearer(secret))).status_code == 200
    await _second_admin(alpha)
    async with session_scope() as session:
        await tenancy.set_user_disabled(session, tenant_id=alpha.tenant_id, user_id=alpha.users["admin"], disabled=True)
    comeback = await api_client.patch(f"/api/v1/users/{alpha.users['admin']}", json={"disabled": False},
                                      headers=bearer(secret))
    assert comeback.status_code == 401
    async with session_scope() as session:
        assert (await tenancy.get_user(session, tenant_id=alpha.tenant_id, user_id=alpha.users["admin"])).disabled


async def test_a_demoted_admins_token_keeps_only_the_new_role(
    two_tenants: tuple[Seeded, Seeded], api_client: httpx.AsyncClient, require_spy: list[tuple[str, bool]]
) -> None:
    alpha, _ = two_tenants
    secret = await _ui_token(alpha, "admin", require_spy)
    await _second_admin(alpha)
    async with session_scope() as session:
        await tenancy.set_user_role(session, tenant_id=alpha.tenant_id, user_id=alpha.users["admin"], role="viewer")
    promote = await api_client.patch(f"/api/v1/users/{alpha.users['admin']}", json={"role": "admin"},
                                     headers=bearer(secret))
    assert promote.status_code == 403
    assert (await api_client.get("/api/v1/snapshots", headers=bearer(secret))).status_code == 200  # still a viewer
    async with session_scope() as session:
        user = await tenancy.get_user(session, tenant_id=alpha.tenant_id, user_id=alpha.users["admin"])
    assert user.role == "viewer"


# --- the migration: existing tokens get a person or a service --------------------------------------------------

async def _rows(url: str, statement: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        result = await conn.execute(sa.text(statement))
        rows = [tuple(row) for row in result.all()] if result.returns_rows else []
    await engine.dispose()
    return rows


def _upgrade_with_tokens(url: str) -> list[tuple[object, ...]]:
    migrate.upgrade(url, "0001")
    asyncio.run(_rows(url, """
        insert into tenant (id, name, settings, created_at) values (1, 'one', '{}', '2026-01-01'), (2, 'two', '{}', '2026-01-01')
    """))
    asyncio.run(_rows(url, """
        insert into "user" (id, tenant_id, email, display_name, role, disabled, created_at)
        values (1, 1, 'alice@one.test', 'alice', 'admin', false, '2026-01-01'),
               (2, 2, 'bob@two.test', 'bob', 'admin', false, '2026-01-01')
    """))
    asyncio.run(_rows(url, """
        insert into api_token (id, tenant_id, name, role, token_hash, prefix, created_by, created_at) values
        (1, 1, 'web', 'admin', 'h1', 'p1', 'alice@one.test', '2026-01-01'),
        (2, 1, 'cli', 'analyst', 'h2', 'p2', 'cli', '2026-01-01'),
        (3, 1, 'old', 'viewer', 'h3', 'p3', '', '2026-01-01'),
        (4, 1, 'foreign', 'admin', 'h4', 'p4', 'bob@two.test', '2026-01-01')
    """))
    migrate.upgrade(url)
    return asyncio.run(_rows(url, "select id, user_id, service from api_token order by id"))


EXPECTED = [(1, 1, ""), (2, None, "cli"), (3, None, "legacy"), (4, None, "legacy")]


def test_the_migration_ties_existing_tokens_to_their_creators_on_sqlite(tmp_path: Path) -> None:
    assert _upgrade_with_tokens(f"sqlite+aiosqlite:///{tmp_path / 'sg.db'}") == EXPECTED


def test_the_migration_ties_existing_tokens_to_their_creators_on_postgresql() -> None:
    url = asyncio.run(create_database())
    try:
        assert _upgrade_with_tokens(url) == EXPECTED
    finally:
        asyncio.run(drop_database(url))
