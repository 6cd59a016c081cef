"""`jobs.runtime.home.home_of`: a tenant's settings as the detection engines' HomeNetworks."""

from __future__ import annotations

from typing import Any

from jobs.engines.detect.home import PRIVATE_NETWORKS, HomeNetworks
from jobs.runtime.home import home_of
from models.tenancy import Tenant


def _tenant(**settings: Any) -> Tenant:
    return Tenant(name="t", settings=settings)


def test_default_home_is_the_private_ranges_only() -> None:
    home = home_of(_tenant())
    assert isinstance(home, HomeNetworks)
    assert {str(n) for n in home.networks} == set(PRIVATE_NETWORKS)
    assert home.network_of("10.1.2.3") == "10.0.0.0/8"
    assert home.network_of("fd00::1") == "fc00::/7"
    assert home.network_of("64.225.56.201") is None


def test_sensors_and_networks_are_home_as_the_smallest_network() -> None:
    home = home_of(_tenant(home_networks=["203.0.113.0/24", "10.20.0.0/16"], sensors=["64.225.56.201"]))
    assert home.network_of("64.225.56.201") == "64.225.56.201/32"
    assert home.network_of("64.225.56.202") is None
    assert home.network_of("203.0.113.77") == "203.0.113.0/24"
    assert home.network_of("10.20.3.4") == "10.20.0.0/16"  # inside 10.0.0.0/8 too: the smaller one names it
    assert home.network_of("192.168.1.1") == "192.168.0.0/16"


def test_home_private_false_leaves_the_private_ranges_outside() -> None:
    home = home_of(_tenant(home_networks=["10.20.0.0/16"], sensors=["2001:db8::1"], home_private=False))
    assert {str(n) for n in home.networks} == {"10.20.0.0/16", "2001:db8::1/128"}
    assert home.network_of("10.30.0.1") is None
    assert home.network_of("192.168.1.1") is None
    assert home.network_of("2001:db8::1") == "2001:db8::1/128"


def test_a_bad_stored_setting_gives_the_default_home_instead_of_failing() -> None:
    home = home_of(_tenant(home_networks=["10.0.0.1/8"], sensors="64.225.56.201", home_private="no"))
    assert {str(n) for n in home.networks} == set(PRIVATE_NETWORKS)
