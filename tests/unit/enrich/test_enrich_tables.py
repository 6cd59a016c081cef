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

from jobs.engines.enrich import EnrichDataMissing, address_key, load_tables, lookup_addresses, lookup_frame
from jobs.engines.enrich import lookup as lookup_module

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


def test_keys_carry_the_family_and_mapped_ipv6_is_its_ipv4_address() -> None:
    keys = [address_key(text) for text in ("8.8.8.8", "::ffff:8.8.8.8", "2001:4860::1", "10.0.0.1", "x", "")]
    v4 = int(ipaddress.ip_address("8.8.8.8"))
    assert keys == [(4, v4), (4, v4), (6, int(ipaddress.ip_address("2001:4860::1"))), None, None, None]


def test_answers_are_cached_and_the_cache_is_bounded(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tables = load_tables(data_dir)
    assert lookup_addresses(tables, ["8.8.8.8", "10.0.0.1"]) == [(15169, "Google LLC", "US"), (None, None, None)]
    assert set(tables.cache) == {"8.8.8.8", "10.0.0.1"}
    monkeypatch.setattr(lookup_module, "CACHE_LIMIT", 3)
    assert lookup_addresses(tables, ["8.8.9.1", "2001:4860::1"])[1] == (15169, "Google LLC", "US")
    assert set(tables.cache) == {"8.8.9.1", "2001:4860::1"}  # four would pass the limit: emptied first


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_ipv4_is_looked_up_exactly_when_globally_reachable(value: int) -> None:
    address = ipaddress.IPv4Address(value)
    # ipaddress counts multicast as global and leaves part of 192.0.0.0/24 out; neither has an origin AS.
    expected = address.is_global and not address.is_multicast and address not in ipaddress.ip_network("192.0.0.0/24")
    key = address_key(str(address))
    assert (key is not None) == expected
    assert key is None or key == (4, value)


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_ipv6_is_looked_up_only_when_global_unicast(value: int) -> None:
    address = ipaddress.IPv6Address(value)
    key = address_key(str(address))
    if address.ipv4_mapped is not None:
        assert key == address_key(str(address.ipv4_mapped))
    elif key is not None:
        assert key == (6, value)
        assert address.is_global and address in ipaddress.ip_network("2000::/3")
    else:
        assert not address.is_global or address not in ipaddress.ip_network("2000::/3") or any(
            address in ipaddress.ip_network(block) for block in ("2001::/23", "2001:db8::/32", "3fff::/20"))


@pytest.mark.parametrize("text", ["2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "3fff::1", "64:ff9b::8.8.8.8"])
def test_teredo_documentation_and_translated_ipv6_are_not_looked_up(text: str) -> None:
    assert address_key(text) is None
