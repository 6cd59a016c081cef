"""Plain builder functions for test data."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from models.db import session_scope
from models.queries import jobs as job_queries
from models.queries import tenancy


@dataclass(frozen=True)
class TenantFixture:
    tenant_id: int
    name: str
    admin_email: str
    password: str
    token: str


async def make_tenant(name: str, *, token_role: str = "analyst", password: str = "correct-horse-1") -> TenantFixture:
    """A tenant with an admin user and an API token."""
    async with session_scope() as session:
        tenant = await tenancy.create_tenant(session, name=name)
        email = f"admin@{name}.test"
        admin = await tenancy.create_user(session, tenant_id=tenant.id or 0, email=email, role="admin",
                                          password=password)
        _, secret = await tenancy.create_api_token(session, tenant_id=tenant.id or 0, role=token_role, name="test",
                                                   user_id=admin.id)
    return TenantFixture(tenant.id or 0, name, email, password, secret)


async def person_token(tenant_id: int, role: str, email: str = "") -> str:
    """An API token acting for the user `email` of the tenant (made with `role` when new; a fresh user when no
    email is given)."""
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@token.test"
    async with session_scope() as session:
        user = await tenancy.find_user_by_email(session, email=email)
        if user is None:
            user = await tenancy.create_user(session, tenant_id=tenant_id, email=email, role=role, password=None)
        _, secret = await tenancy.create_api_token(session, tenant_id=tenant_id, role=role, name=role,
                                                   user_id=user.id, created_by=email)
    return secret


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of an API token."""
    return {"Authorization": f"Bearer {token}"}


async def settled(tenant_id: int, within: float = 60) -> dict[str, int]:
    """Wait until no job of the tenant is queued, running or retrying; returns the status counts."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with session_scope() as session:
            counts = await job_queries.count_job_runs_by_status(session, tenant_id=tenant_id)
        if counts["queued"] + counts["running"] + counts["retrying"] == 0:
            return counts
        assert loop.time() < deadline, f"jobs still busy: {counts}"
        await asyncio.sleep(0.05)
