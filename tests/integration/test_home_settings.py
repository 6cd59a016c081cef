"""`set_home_networks` against the real database (two tenants), and the demo seed naming the RITA sensor."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.demo import seed
from jobs.runtime.home import home_of
from models.db import session_scope
from models.errors import Invalid
from models.queries import tenancy
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.integration


async def _two_tenants() -> tuple[int, int]:
    async with session_scope() as session:
        alpha = await tenancy.create_tenant(session, name="alpha")
        bravo = await tenancy.create_tenant(session, name="bravo")
        return alpha.id or 0, bravo.id or 0


async def test_saved_settings_are_normalised_deduplicated_and_only_the_tenants_own(app_ctx: str) -> None:
    alpha, bravo = await _two_tenants()
    async with session_scope() as session:
        tenant = await tenancy.set_home_networks(
            session, tenant_id=alpha, networks=["2001:DB8::/32", "203.0.113.0/24", " 203.0.113.0/24"],
            sensors=["64.225.56.201", "64.225.56.201"], home_private=False)
        assert tenant.home_networks == ["2001:db8::/32", "203.0.113.0/24"]
    async with session_scope() as session:
        stored = await tenancy.get_tenant(session, tenant_id=alpha)
        other = await tenancy.get_tenant(session, tenant_id=bravo)
    assert stored.settings["home_networks"] == ["2001:db8::/32", "203.0.113.0/24"]
    assert (stored.sensors, stored.home_private, stored.window_seconds) == (["64.225.56.201"], False, 3600)
    assert (other.home_networks, other.sensors, other.home_private) == ([], [], True)
    assert home_of(stored).network_of("64.225.56.201") == "64.225.56.201/32"
    assert home_of(stored).network_of("10.0.0.1") is None


async def test_bad_input_raises_invalid_naming_each_entry_and_saves_nothing(app_ctx: str) -> None:
    alpha, _ = await _two_tenants()
    async with session_scope() as session:
        await tenancy.set_window_seconds(session, tenant_id=alpha, seconds=300)
        await tenancy.set_home_networks(session, tenant_id=alpha, networks=["198.51.100.0/24"], sensors=[],
                                        home_private=True)
    with pytest.raises(Invalid) as caught:
        async with session_scope() as session:
            await tenancy.set_home_networks(session, tenant_id=alpha, networks=["10.0.0.0/8", "10.0.0.1/8"],
                                            sensors=["sensor-a"], home_private=True)
    assert caught.value.message == (
        'home settings not saved: home network 2 "10.0.0.1/8": host bits are set: the network is 10.0.0.0/8 '
        '(or write 10.0.0.1 alone for that one host); sensor 1 "sensor-a": not an IP address (one per line, '
        "such as 64.225.56.201)")
    with pytest.raises(Invalid, match="home_private must be true or false"):
        async with session_scope() as session:
            await tenancy.set_home_networks(session, tenant_id=alpha, networks=[], sensors=[],
                                            home_private="yes")  # type: ignore[arg-type]
    async with session_scope() as session:
        stored = await tenancy.get_tenant(session, tenant_id=alpha)
    assert (stored.home_networks, stored.window_seconds) == (["198.51.100.0/24"], 300)


async def test_an_unknown_tenant_is_not_found(app_ctx: str) -> None:
    from models.errors import NotFound

    with pytest.raises(NotFound):
        async with session_scope() as session:
            await tenancy.set_home_networks(session, tenant_id=987654, networks=[], sensors=[], home_private=True)


@pytest.fixture
def data_dir(app_ctx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from models.settings import get_settings

    monkeypatch.setenv("SG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return tmp_path


async def test_the_demo_seed_names_the_rita_sensor_when_it_seeds_the_rita_capture(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rita = sorted((SHARED_DATA / "zeek" / "rita-missing-host").glob("*/*.log.gz"))[:1]
    if not rita:
        pytest.skip(f"the RITA capture is not in {SHARED_DATA}")
    monkeypatch.setattr(seed, "sample_files", lambda: rita)  # one file of it is enough, and quick to queue
    created, _ = await seed.seed_demo()
    assert created
    async with session_scope() as session:
        tenant = await tenancy.get_tenant_by_name(session, name=seed.DEMO_TENANT)
    assert (tenant.sensors, tenant.home_networks, tenant.home_private) == (["64.225.56.201"], [], True)


async def test_the_generated_estate_names_no_sensor(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(seed.SAMPLES_ENV, "generated")
    created, what = await seed.seed_demo()
    assert created and "generated estate" in what
    async with session_scope() as session:
        tenant = await tenancy.get_tenant_by_name(session, name=seed.DEMO_TENANT)
    assert (tenant.sensors, tenant.home_private) == ([], True)
