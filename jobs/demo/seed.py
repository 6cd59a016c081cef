"""The demo tenant that `./run demo` seeds, so a new user has something to log in to and look at.

Flows come from the real public samples in ../shared/data when that folder is beside the project
(Zeek from an internet-facing sensor over 3 days, Hubble bookinfo flows, a VPC flow log); a clone
without it gets a generated estate instead (`jobs.demo.estate`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from jobs.runtime.uploads import file_chunks, receive_upload
from models.db import session_scope
from models.errors import NotFound
from models.queries import tenancy
from models.settings import ROOT
from models.types import utcnow

DEMO_TENANT = "demo"
# Demo-only credentials, printed by the run script; production refuses placeholder secrets anyway.
DEMO_USERS = (
    ("admin@demo.local", "admin", "demo-admin-pw"),
    ("approver@demo.local", "approver", "demo-approver-pw"),
    ("analyst@demo.local", "analyst", "demo-analyst-pw"),
)
SHARED_DATA = ROOT.parent / "shared" / "data"
# Lets a clone beside ../shared seed the generated estate instead (e.g. to try the demo as a user would).
SAMPLES_ENV = "SG_DEMO_SAMPLES"
# The RITA capture's sensor (../shared/data/SOURCES.md): an internet-facing host, so home though public.
RITA_FOLDER = "rita-missing-host"
RITA_SENSOR = "64.225.56.201"


def sample_files(data: Path = SHARED_DATA) -> list[Path]:
    """The real sample flow files to seed with, oldest first; empty when the folder is absent."""
    if not data.is_dir():
        return []
    return [
        *sorted((data / "zeek" / RITA_FOLDER).glob("*/*.log.gz")),
        *sorted((data / "hubble").glob("*.json")),
        *sorted((data / "vpcflow" / "grafana-loki").glob("*.gz")),
    ]


async def _create(name: str) -> int | None:
    async with session_scope() as session:
        try:
            await tenancy.get_tenant_by_name(session, name=name)
            return None
        except NotFound:
            tenant = await tenancy.create_tenant(session, name=name)
        for email, role, password in DEMO_USERS:
            await tenancy.create_user(session, tenant_id=tenant.id or 0, email=email, role=role, password=password)
    return tenant.id


async def _set_rita_sensor(tenant_id: int, files: list[Path]) -> None:
    """The RITA capture's sensor is home (its flows are its own), so the tenant that gets it names it."""
    if any(RITA_FOLDER in path.parts for path in files):
        async with session_scope() as session:
            await tenancy.set_home_networks(session, tenant_id=tenant_id, networks=[], sensors=[RITA_SENSOR],
                                            home_private=True)


async def _queue(tenant_id: int, files: list[Path]) -> int:
    for path in files:
        await receive_upload(file_chunks(path), tenant_id=tenant_id, filename=path.name, fmt="auto",
                             created_by="demo seed")
    return len(files)


async def seed_demo() -> tuple[bool, str]:
    """Create the demo tenant, users and flow uploads if absent. Returns (created, what was queued)."""
    tenant_id = await _create(DEMO_TENANT)
    if tenant_id is None:
        return False, "already seeded"
    files = sample_files() if os.environ.get(SAMPLES_ENV, "shared") == "shared" else []
    if files:
        await _set_rita_sensor(tenant_id, files)
        count = await _queue(tenant_id, files)
        return True, f"{count} real sample files from {SHARED_DATA} queued for parsing"
    from jobs.demo.estate import estate_files

    with tempfile.TemporaryDirectory() as tmp:
        count = await _queue(tenant_id, estate_files(Path(tmp), end=utcnow()))
    return True, f"{count} files of a generated estate queued for parsing (no {SHARED_DATA} here)"
