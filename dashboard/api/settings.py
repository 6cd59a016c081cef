"""`/api/v1/settings/home`: what the tenant calls home (viewers read, admins change; every change audited).

PUT body: `{"home_networks": ["203.0.113.0/24"], "sensors": ["64.225.56.201"], "home_private": true}`, the whole
setting (no partial update); a bad entry answers 422 naming it, and nothing is saved.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from dashboard.api.deps import Caller, DbSession
from models.public.tenancy import HomeSettingsPublic
from models.queries import tenancy
from models.queries.audit import record_audit
from models.tenancy import MAX_HOME_NETWORKS, MAX_SENSORS

router = APIRouter(prefix="/settings")


class HomeSettingsIn(BaseModel):
    # An unknown key (a typo such as "networks") is refused, not read as "no networks".
    model_config = ConfigDict(extra="forbid")

    home_networks: list[str] = Field(max_length=4 * MAX_HOME_NETWORKS)
    sensors: list[str] = Field(max_length=4 * MAX_SENSORS)
    home_private: bool


@router.get("/home")
async def read_home(caller: Caller, session: DbSession) -> HomeSettingsPublic:
    """The tenant's home networks, sensor addresses and whether the private ranges count as home."""
    caller.require("viewer")
    return HomeSettingsPublic.of(await tenancy.get_tenant(session, tenant_id=caller.tenant_id))


@router.put("/home")
async def put_home(caller: Caller, session: DbSession, body: HomeSettingsIn) -> HomeSettingsPublic:
    """Admins: replace the home settings (validated, normalised, deduplicated); audited with before and after."""
    caller.require("admin")
    before = HomeSettingsPublic.of(await tenancy.get_tenant(session, tenant_id=caller.tenant_id))
    tenant = await tenancy.set_home_networks(session, tenant_id=caller.tenant_id, networks=body.home_networks,
                                             sensors=body.sensors, home_private=body.home_private)
    after = HomeSettingsPublic.of(tenant)
    if after != before:
        await record_audit(session, tenant_id=caller.tenant_id, actor=caller.actor, action="tenant.home",
                           before=before.model_dump(), after=after.model_dump())
    return after
