"""lookup_frame on the installed ip-location-db data: public addresses whose owner does not change, and the
addresses that must never be looked up (private, reserved, malformed)."""

from __future__ import annotations

import polars as pl
import pytest

from jobs.engines.enrich import DEFAULT_DATA_DIR, ENRICH_SCHEMA, load_tables, lookup_distinct, lookup_frame


@pytest.fixture(scope="module", autouse=True)
def installed_data() -> None:
    """Fails (never skips) when the data packages are missing: `./run` installs them."""
    if not (DEFAULT_DATA_DIR / "asn" / "asn-ipv4-num.csv").is_file():
        pytest.fail(f"{DEFAULT_DATA_DIR} has no ip-location-db data: run `./run test` once to install it")


def enrich(*addresses: str | None) -> list[dict[str, object]]:
    return lookup_frame(pl.Series(list(addresses), dtype=pl.Utf8)).to_dicts()


@pytest.mark.parametrize(("address", "asn", "org_word"), [
    ("8.8.8.8", 15169, "google"),
    ("1.1.1.1", 13335, "cloudflare"),
    ("9.9.9.9", 19281, "quad9"),
    ("2001:4860:4860::8888", 15169, "google"),
    ("2606:4700:4700::1111", 13335, "cloudflare"),
    ("2620:fe::fe", 19281, "quad9"),
])
def test_public_resolvers_resolve_to_their_operators(address: str, asn: int, org_word: str) -> None:
    [row] = enrich(address)
    assert row["asn"] == asn
    assert org_word in str(row["as_org"]).lower()
    assert isinstance(row["country"], str) and len(row["country"]) == 2 and row["country"].isupper()


def test_google_dns_is_in_the_united_states() -> None:
    assert [row["country"] for row in enrich("8.8.8.8", "2001:4860:4860::8888")] == ["US", "US"]


@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.10.20", "100.64.0.1", "0.0.0.0",
    "192.0.2.10", "198.51.100.7", "203.0.113.9", "198.18.0.1", "224.0.0.251", "239.255.255.250",
    "255.255.255.255", "240.0.0.1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "::1", "::",
    "ff02::1", "ff02::fb", "2001:db8::1", "::ffff:10.1.2.3",
])
def test_private_and_reserved_addresses_get_nulls(address: str) -> None:
    assert enrich(address) == [{"asn": None, "as_org": None, "country": None}]


@pytest.mark.parametrize("text", ["garbage", "", "1.2.3", "1.2.3.4.5", "999.1.1.1", "01.1.1.1", "8.8.8.8 ",
                                  "2001:4860::8888::1", "host.example.com", None])
def test_malformed_addresses_get_nulls(text: str | None) -> None:
    assert enrich(text) == [{"asn": None, "as_org": None, "country": None}]


def test_rows_follow_the_input_in_order_with_duplicates_and_nulls() -> None:
    rows = enrich("9.9.9.9", None, "8.8.8.8", "10.0.0.1", "9.9.9.9", "8.8.8.8", "nonsense")
    assert [row["asn"] for row in rows] == [19281, None, 15169, None, 19281, 15169, None]


def test_an_ipv4_mapped_ipv6_address_is_its_ipv4_address() -> None:
    mapped, plain = enrich("::ffff:8.8.8.8", "8.8.8.8")
    assert mapped == plain and plain["asn"] == 15169


def test_the_frame_has_the_declared_schema_also_when_empty() -> None:
    assert lookup_frame(pl.Series([], dtype=pl.Utf8)).schema == pl.Schema(ENRICH_SCHEMA)
    assert lookup_frame(pl.Series(["8.8.8.8"] * 3)).schema == pl.Schema(ENRICH_SCHEMA)


def test_distinct_lookup_has_one_row_per_distinct_address() -> None:
    found = lookup_distinct(pl.Series(["8.8.8.8", "8.8.8.8", None, "10.0.0.1", "1.1.1.1"]))
    assert sorted(found["address"].to_list()) == ["1.1.1.1", "10.0.0.1", "8.8.8.8"]
    assert dict(zip(found["address"], found["asn"], strict=True)) == {
        "1.1.1.1": 13335, "10.0.0.1": None, "8.8.8.8": 15169}


def test_the_tables_and_their_answers_are_kept_for_the_process() -> None:
    assert load_tables() is load_tables(DEFAULT_DATA_DIR / "asn" / "..")
    assert load_tables().version.startswith("2.")
    enrich("9.9.9.9")
    assert load_tables().cache["9.9.9.9"] == (19281, "Quad9", "US")
