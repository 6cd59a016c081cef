"""Home networks, direction, address scopes and exposed services."""

from __future__ import annotations

import polars as pl
import pytest

from jobs.engines.detect.home import ExposureParams, HomeNetworks, address_table, exposed_services, ipv4_integer

from .builders import SENSOR, Flow, detection


def test_an_internet_facing_sensor_is_home_beside_the_private_ranges() -> None:
    home = HomeNetworks.of(sensors=[SENSOR])
    assert home.network_of(SENSOR) == f"{SENSOR}/32"
    assert home.network_of("192.168.4.2") == "192.168.0.0/16"
    assert home.network_of("fd12::1") == "fc00::/7"
    assert home.network_of("8.8.8.8") is None
    assert HomeNetworks.of(["203.0.113.0/24"], private=False).network_of("10.0.0.1") is None


@pytest.mark.parametrize("bad", ["10.0.0.5/8", "not-a-net", "300.1.1.0/24"])
def test_bad_networks_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        HomeNetworks.of([bad])


def test_direction_of_each_flow() -> None:
    frame = detection([
        Flow(0, SENSOR, "8.8.8.8", 53, "udp"), Flow(1, "1.2.3.4", SENSOR, 22),
        Flow(2, "10.0.0.1", "10.0.0.2", 445), Flow(3, "5.6.7.8", "9.9.9.9", 80),
    ])
    assert frame["direction"].to_list() == ["outbound", "inbound", "internal", "transit"]
    assert frame["actor"].to_list() == [SENSOR, "1.2.3.0/24", "10.0.0.1", "5.6.7.0/24"]


def test_the_most_specific_home_network_names_an_address() -> None:
    home = HomeNetworks.of(["10.1.0.0/16"])
    table = address_table(pl.Series(["10.1.2.3", "10.9.9.9", "8.8.8.8"]), home).sort("address")
    assert dict(zip(table["address"], table["home_net"], strict=True)) == {
        "10.1.2.3": "10.1.0.0/16", "10.9.9.9": "10.0.0.0/8", "8.8.8.8": None}


def test_multicast_broadcast_link_local_and_unspecified_are_local_scope() -> None:
    home = HomeNetworks.of(["192.168.1.0/24"])
    scoped = ["224.0.0.251", "239.255.255.250", "255.255.255.255", "192.168.1.255", "169.254.7.7", "0.0.0.0",
              "ff02::2", "fe80::1", "::"]
    plain = ["192.168.1.7", "8.8.8.8", "2001:db8::1", "fd00::5"]
    table = address_table(pl.Series(scoped + plain), home)
    flags = dict(zip(table["address"], table["local_scope"], strict=True))
    assert all(flags[a] for a in scoped)
    assert not any(flags[a] for a in plain)
    homes = dict(zip(table["address"], table["home"], strict=True))
    assert homes["fd00::5"] and homes["192.168.1.7"] and not homes["2001:db8::1"]


@pytest.mark.parametrize("junk", ["1.2.3", "1.2.3.4.5", "256.1.1.1", "a.b.c.d", "fe80::1", ""])
def test_only_dotted_quads_become_ipv4_integers(junk: str) -> None:
    assert pl.select(ipv4_integer(pl.lit(junk))).item() is None
    assert pl.select(ipv4_integer(pl.lit("1.2.3.4"))).item() == 16_909_060


def test_a_service_many_outside_sources_got_answered_by_is_exposed() -> None:
    flows = [Flow(i, f"1.2.{i}.9", SENSOR, 22) for i in range(12)]  # 12 answered sources: exposed
    flows += [Flow(i, f"3.4.{i}.9", SENSOR, 23, answered=False) for i in range(40)]  # knocked on, closed
    flows += [Flow(i, f"5.6.{i}.9", SENSOR, 8080) for i in range(3)]  # a few partners
    found = exposed_services(detection(flows))
    assert found.select("host", "dst_port", "protocol", "sources").rows() == [(SENSOR, 22, "tcp", 12)]
    assert exposed_services(detection(flows), ExposureParams(min_sources=3))["dst_port"].to_list() == [22, 8080]
    with pytest.raises(ValueError):
        ExposureParams(min_sources=1)
