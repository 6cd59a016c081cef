"""The range tables and the address keys on small tables written here: inclusive bounds, gaps, both families,
and the list of never-looked-up IPv4 blocks checked against the standard library."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.engines.enrich import EnrichDataMissing, address_keys, load_tables, lookup_frame

V4 = [("8.8.8.0", "8.8.8.255", 15169, "Google LLC"), ("8.8.9.0", "8.8.9.9", 64500, 'Example, "Quoted" Ltd')]
V6 = [("2001:4860::", "2001:4860:ffff:ffff:ffff:ffff:ffff:ffff", 15169, "Google LLC")]
COUNTRY_V4 = [("8.8.8.0", "8.8.9.255", "US")]
COUNTRY_V6 = [("2001:4860::", "2001:4860:ffff:ffff:ffff:ffff:ffff:ffff", "US")]


def number(text: str) -> str:
    return str(int(ipaddress.ip_address(text)))


def write_package(folder: Path, files: Mapping[str, Sequence[tuple[object, ...]]]) -> None:
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"version": "9.9.9"}))
    for name, rows in files.items():
        frame = pl.DataFrame([(number(str(r[0])), number(str(r[1])), *r[2:]) for r in rows], orient="row")
        frame.write_csv(folder / name, include_header=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    write_package(tmp_path / "asn", {"asn-ipv4-num.csv": V4, "asn-ipv6-num.csv": V6})
    write_package(tmp_path / "geo-whois-asn-country", {"geo-whois-asn-country-ipv4-num.csv": COUNTRY_V4,
                                                       "geo-whois-asn-country-ipv6-num.csv": COUNTRY_V6})
    return tmp_path


def test_range_bounds_are_inclusive_and_gaps_are_unknown(data_dir: Path) -> None:
    addresses = ["8.8.7.255", "8.8.8.0", "8.8.8.255", "8.8.9.0", "8.8.9.9", "8.8.9.10", "2001:4860::1",
                 "2001:4861::"]
    found = lookup_frame(pl.Series(addresses), data_dir=data_dir)
    assert found["asn"].to_list() == [None, 15169, 15169, 64500, 64500, None, 15169, None]
    assert found["as_org"].to_list()[3] == 'Example, "Quoted" Ltd'
    assert found["country"].to_list() == [None, "US", "US", "US", "US", "US", "US", None]
    assert load_tables(data_dir).version == "9.9.9"


def test_missing_data_is_a_named_error_that_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(EnrichDataMissing, match="@ip-location-db/asn"):
        lookup_frame(pl.Series(["8.8.8.8"]), data_dir=tmp_path / "nowhere")


def test_ipv4_keys_sit_at_the_ipv4_mapped_place() -> None:
    keys = address_keys(pl.Series(["8.8.8.8", "::ffff:8.8.8.8", "2001:4860::1", "10.0.0.1", "x", None]))
    mapped = int(ipaddress.ip_address("::ffff:8.8.8.8"))
    assert keys.to_list() == [mapped, mapped, int(ipaddress.ip_address("2001:4860::1")), None, None, None]


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_ipv4_is_looked_up_exactly_when_globally_reachable(value: int) -> None:
    address = ipaddress.IPv4Address(value)
    # ipaddress counts multicast as global and leaves part of 192.0.0.0/24 out; neither has an origin AS.
    expected = address.is_global and not address.is_multicast and address not in ipaddress.ip_network("192.0.0.0/24")
    [key] = address_keys(pl.Series([str(address)])).to_list()
    assert (key is not None) == expected
    assert key is None or key == (0xFFFF << 32) + value
