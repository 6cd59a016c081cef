"""`sg demo seed`: the demo tenant, its three users, and flows queued from the real samples or the generator."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.demo.seed import DEMO_USERS, SAMPLES_ENV, sample_files, seed_demo
from models.db import session_scope
from models.queries import graph as graph_queries
from models.queries import jobs as job_queries
from models.queries import tenancy
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.integration


@pytest.fixture
def data_dir(app_ctx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from models.settings import get_settings

    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return tmp_path


def test_sample_files_are_the_real_zeek_hubble_and_vpc_files() -> None:
    files = sample_files(SHARED_DATA)
    assert len([f for f in files if "rita-missing-host" in str(f)]) == 72
    assert len([f for f in files if "hubble" in str(f)]) == 9
    assert sample_files(Path("/nonexistent")) == []


async def test_seed_with_real_samples_is_idempotent(data_dir: Path) -> None:
    created, what = await seed_demo()
    assert created and "82 real sample files" in what
    again, what_again = await seed_demo()
    assert not again and what_again == "already seeded"
    async with session_scope() as session:
        tenant = await tenancy.get_tenant_by_name(session, name="demo")
        for email, role, password in DEMO_USERS:
            user = await tenancy.authenticate(session, email=email, password=password)
            assert user is not None and user.role == role and user.tenant_id == tenant.id
        uploads = await graph_queries.list_uploads(session, tenant_id=tenant.id or 0, limit=200)
        runs = await job_queries.list_job_runs(session, tenant_id=tenant.id or 0, name="ingest_flows", limit=200)
    assert len(uploads) == 82 and len(runs) == 82


async def test_seed_without_shared_data_uses_the_generated_estate(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SAMPLES_ENV, "generated")
    created, what = await seed_demo()
    assert created and "generated estate" in what
    async with session_scope() as session:
        tenant = await tenancy.get_tenant_by_name(session, name="demo")
        uploads = await graph_queries.list_uploads(session, tenant_id=tenant.id or 0)
    assert len(uploads) == 4 and all(u.filename.startswith("demo-estate-") for u in uploads)
