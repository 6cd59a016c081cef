"""Plain builder functions for test data."""

from __future__ import annotations

import asyncio
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
        await tenancy.create_user(session, tenant_id=tenant.id or 0, email=email, role="admin", password=password)
        _, secret = await tenancy.create_api_token(session, tenant_id=tenant.id or 0, role=token_role, name="test")
    return TenantFixture(tenant.id or 0, name, email, password, secret)


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
