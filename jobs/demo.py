"""The demo tenant that `./run demo` seeds, so a new user has something to log in to."""

from __future__ import annotations

from models.db import session_scope
from models.errors import NotFound
from models.queries import tenancy

DEMO_TENANT = "demo"
# Demo-only credentials, printed by the run script; production refuses placeholder secrets anyway.
DEMO_USERS = (
    ("admin@demo.local", "admin", "demo-admin-pw"),
    ("approver@demo.local", "approver", "demo-approver-pw"),
    ("analyst@demo.local", "analyst", "demo-analyst-pw"),
)


async def seed_demo() -> bool:
    """Create the demo tenant and users if absent; True when something was created."""
    async with session_scope() as session:
        try:
            await tenancy.get_tenant_by_name(session, name=DEMO_TENANT)
            return False
        except NotFound:
            tenant = await tenancy.create_tenant(session, name=DEMO_TENANT)
        for email, role, password in DEMO_USERS:
            await tenancy.create_user(session, tenant_id=tenant.id or 0, email=email, role=role, password=password)
    return True
