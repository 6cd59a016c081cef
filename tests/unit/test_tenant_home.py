"""A tenant's home settings (docs/detection.md step 3): the `Tenant` properties, their defaults and fallbacks, and
the checks with the messages a user reads."""

from __future__ import annotations

from typing import Any

import pytest

from models.tenancy import (
    MAX_HOME_NETWORKS,
    MAX_SENSORS,
    Tenant,
    check_home,
    normalise_network,
    normalise_sensor,
)


def _tenant(**settings: Any) -> Tenant:
    return Tenant(name="t", settings=settings)


def test_defaults_are_no_networks_no_sensors_and_private_ranges_home() -> None:
    tenant = _tenant()
    assert (tenant.home_networks, tenant.sensors, tenant.home_private) == ([], [], True)


def test_stored_values_read_back_normalised() -> None:
    tenant = _tenant(home_networks=["203.0.113.0/24", "2001:DB8::/32"], sensors=["64.225.56.201"],
                     home_private=False)
    assert tenant.home_networks == ["203.0.113.0/24", "2001:db8::/32"]
    assert tenant.sensors == ["64.225.56.201"]
    assert tenant.home_private is False


@pytest.mark.parametrize("stored", [
    "10.0.0.0/8",                       # a string, not a list
    ["10.0.0.0/8", 5],                  # a number among them
    ["10.0.0.1/8"],                     # host bits set
    ["nonsense"],
    ["0.0.0.0/0"],                      # everything home
    {"10.0.0.0/8": True},
    ["10.0.0.0/8"] * (MAX_HOME_NETWORKS + 1),
])
def test_a_bad_stored_network_list_reads_as_the_default(stored: Any) -> None:
    assert _tenant(home_networks=stored).home_networks == []


@pytest.mark.parametrize("stored", ["64.225.56.201", ["10.0.0.0/24"], ["x"], [None], ["1.2.3.4"] * (MAX_SENSORS + 1)])
def test_a_bad_stored_sensor_list_reads_as_the_default(stored: Any) -> None:
    assert _tenant(sensors=stored).sensors == []


@pytest.mark.parametrize("stored", ["false", 0, 1, None, []])
def test_a_stored_home_private_that_is_not_a_bool_reads_as_true(stored: Any) -> None:
    assert _tenant(home_private=stored).home_private is True


def test_host_bits_set_says_so_and_names_the_network_it_meant() -> None:
    with pytest.raises(ValueError, match=r"host bits are set: the network is 10\.0\.0\.0/8 \(or write 10\.0\.0\.1"):
        normalise_network("10.0.0.1/8")
    with pytest.raises(ValueError, match=r"the network is 2001:db8::/32"):
        normalise_network("2001:db8::1/32")


@pytest.mark.parametrize(("value", "reason"), [
    ("not-a-net", "not a network: write a CIDR"),
    ("10.0.0.0/33", "not a network"),
    ("0.0.0.0/0", "every address"),
    ("10.9.9.9/0", "every address"),
    ("::/0", "every address"),
    ("fe80::/10%eth0", "zone index"),
    ("1" * 200, "too long"),
])
def test_bad_networks_are_refused_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalise_network(value)


def test_networks_are_normalised() -> None:
    assert normalise_network(" 192.168.10.0/24 ") == "192.168.10.0/24"
    assert normalise_network("10.1.2.3") == "10.1.2.3/32"
    assert normalise_network("2001:0DB8:0000::/48") == "2001:db8::/48"
    assert normalise_network("10.0.0.0/255.0.0.0") == "10.0.0.0/8"


@pytest.mark.parametrize(("value", "reason"), [
    ("10.0.0.0/24", "not a network: put 10.0.0.0/24 under home networks"),
    ("64.225.56.201/32", "write 64.225.56.201 alone"),
    ("sensor-1", "not an IP address"),
    ("0.0.0.0", "no host has this address"),
    ("224.0.0.1", "no host has this address"),
    ("fe80::1%eth0", "zone index"),
])
def test_bad_sensors_are_refused_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalise_sensor(value)


def test_sensors_are_normalised() -> None:
    assert normalise_sensor(" 2001:DB8::0001 ") == "2001:db8::1"


def test_check_names_every_bad_entry_with_its_position_and_dedups_the_good_ones() -> None:
    checked = check_home(["10.0.0.0/8", "10.0.0.1/8", " 10.0.0.0/8", "", "198.51.100.0/24"],
                         ["64.225.56.201", "64.225.56.201", "10.0.0.0/24"])
    assert checked.networks == ["10.0.0.0/8", "198.51.100.0/24"]
    assert checked.sensors == ["64.225.56.201"]
    assert checked.duplicates == 2
    assert [str(p) for p in checked.problems] == [
        'home network 2 "10.0.0.1/8": host bits are set: the network is 10.0.0.0/8 '
        "(or write 10.0.0.1 alone for that one host)",
        'home network 4 "": empty or not text',
        'sensor 3 "10.0.0.0/24": a sensor is one address, not a network: put 10.0.0.0/24 under home networks',
    ]


def test_caps_count_distinct_entries() -> None:
    many = [f"10.{i // 256}.{i % 256}.0/24" for i in range(MAX_HOME_NETWORKS + 1)]
    over = check_home(many, [])
    assert [str(p) for p in over.problems] == [
        f"home networks: {MAX_HOME_NETWORKS} home networks at most ({MAX_HOME_NETWORKS + 1} different given): "
        "merge neighbours into wider networks"]
    # Duplicates do not count towards the cap.
    assert not check_home(many[:MAX_HOME_NETWORKS] * 2, []).problems
    sensors = [f"192.0.2.{i}" for i in range(1, MAX_SENSORS + 2)]
    assert "64 sensors at most (65 different given)" in str(check_home([], sensors).problems[0])
    # Far past the cap is refused before parsing anything.
    flood = check_home(["x"] * (4 * MAX_HOME_NETWORKS + 1), [])
    assert len(flood.problems) == 1 and "1025 given" in str(flood.problems[0])
