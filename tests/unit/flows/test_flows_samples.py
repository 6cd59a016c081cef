"""Every real sample file parses with the counts SOURCES.md documents; non-flow files are rejected."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import polars as pl
import pytest
from flow_data import data_dir, data_file, text_of, tiny_png

from jobs.engines.flows import (
    CANONICAL_SCHEMA,
    FlowFileRejected,
    ParseResult,
    detect_format,
    parse_file,
)

# path → (format, records, accepted, rejected, skipped)
EXPECTED: dict[str, tuple[str, int, int, int, int]] = {
    "zeek/rita-proxy/conn.log": ("zeek_tsv", 463, 463, 0, 0),
    "zeek/rita-proxy-rolling/conn.15_00_00-16_00_00.log.gz": ("zeek_tsv", 290, 290, 0, 0),
    "zeek/rita-proxy-rolling/conn.16_00_00-17_00_00.log.gz": ("zeek_tsv", 7260, 7260, 0, 0),
    "zeek/rita-json/conn.log": ("zeek_json", 29, 29, 0, 0),
    "zeek/rita-json/open_conn.log": ("zeek_json", 59, 59, 0, 0),
    "zeek/rita-open-conns/conn.log": ("zeek_tsv", 29, 29, 0, 0),
    "zeek/rita-open-conns/open_conn.log": ("zeek_tsv", 59, 59, 0, 0),
    "zeek/rita-truncated/conn.log": ("zeek_tsv", 59, 58, 1, 0),
    "zeek/zeek-btest-teredo/conn.2019-baseline.log": ("zeek_tsv", 21, 21, 0, 0),
    # Every ts of the current baseline is masked as XXXXXXXXXX.XXXXXX: all 21 are bad lines.
    "zeek/zeek-btest-teredo/conn.current-baseline-masked.log": ("zeek_tsv", 21, 0, 21, 0),
    "vpcflow/grafana-loki/vpcflowlog.log.gz": ("vpc", 3, 1, 0, 2),
    "vpcflow/elastic-beats/accept-reject-traffic.log": ("vpc", 4, 2, 0, 2),
    "vpcflow/elastic-beats/ipv6.log": ("vpc", 1, 1, 0, 0),
    "vpcflow/elastic-beats/no-data-skip-data.log": ("vpc", 2, 0, 0, 2),
    "vpcflow/elastic-integrations/test-extra-samples.log": ("vpc", 7, 3, 0, 4),
    "vpcflow/elastic-integrations/test-v5-all-fields.log": ("vpc", 1, 0, 0, 1),
    "vpcflow/elastic-integrations/test-tcp-flag-sequence.log": ("vpc", 3, 1, 0, 2),
    "vpcflow/elastic-integrations/test-ecs-samples.log": ("vpc", 10, 3, 0, 7),
    "vpcflow/elastic-integrations/test-v8-samples.log": ("vpc", 1, 0, 0, 1),
    "vpcflow/elastic-integrations/test-tgw-samples.log": ("vpc", 10, 3, 0, 7),
    "hubble/basic-sample-10-flows.json": ("hubble", 10, 5, 0, 5),
    "hubble/basic-sample-5-dns-flows.json": ("hubble", 5, 3, 0, 2),
    "hubble/basic-sample-5-http-flows.json": ("hubble", 5, 3, 0, 2),
    "hubble/basic-sample-330-dns-flows.json": ("hubble", 330, 165, 0, 165),
    "hubble/basic-sample-348-http-flows.json": ("hubble", 348, 175, 0, 173),
    "hubble/basic-sample-400-tcp-flows.json": ("hubble", 400, 264, 0, 136),
    "hubble/basic-sample-400-udp-flows.json": ("hubble", 400, 252, 0, 148),
    "hubble/basic-sample-400-l7-redirected-flows.json": ("hubble", 400, 400, 0, 0),
    "hubble/basic-sample-400-icmpv4-flows.json": ("hubble", 18, 11, 0, 7),
}
# Files that are in the sample folders but are not (usable) flow files, and why.
NOT_FLOWS: dict[str, str] = {
    "zeek/rita-missing-host/README.md": "no Zeek #fields header",
    "vpcflow/elastic-beats/custom-nat-gateway.log": "lack protocol, start",
    "vpcflow/elastic-beats/custom-transit-gateway.log": "17 fields, which matches no default",
}
RITA_HOURLY = "zeek/rita-missing-host"


def counts(result: ParseResult) -> tuple[str, int, int, int, int]:
    return result.format, result.records, result.accepted, result.rejected, result.skipped


def assert_consistent(result: ParseResult) -> None:
    assert result.accepted + result.rejected + result.skipped == result.records
    assert result.frame.height == result.accepted
    assert dict(result.frame.schema) == CANONICAL_SCHEMA
    assert sum(result.skip_reasons.values()) == result.skipped


def test_every_sample_file_is_covered_by_an_expectation() -> None:
    root = data_dir()
    files = {
        str(path.relative_to(root))
        for folder in ("zeek", "vpcflow", "hubble")
        for path in (root / folder).rglob("*")
        if path.is_file() and not str(path.relative_to(root)).startswith(RITA_HOURLY + "/2024")
    }
    assert files == set(EXPECTED) | set(NOT_FLOWS)


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_sample_file_counts(relative: str) -> None:
    result = parse_file(data_file(relative))
    assert_consistent(result)
    assert counts(result) == EXPECTED[relative]


@pytest.mark.parametrize("relative", sorted(NOT_FLOWS))
def test_non_flow_sample_files_are_rejected_with_a_reason(relative: str) -> None:
    with pytest.raises(FlowFileRejected) as caught:
        parse_file(data_file(relative))
    assert NOT_FLOWS[relative] in caught.value.reason


def test_rita_hourly_files_hold_105918_records_all_accepted() -> None:
    per_day: dict[str, int] = {}
    for path in sorted((data_dir() / RITA_HOURLY).glob("*/*.log.gz")):
        result = parse_file(path)
        assert_consistent(result)
        assert (result.format, result.rejected, result.skipped) == ("zeek_tsv", 0, 0)
        per_day[path.parent.name] = per_day.get(path.parent.name, 0) + result.accepted
    assert sum(1 for _ in (data_dir() / RITA_HOURLY).glob("*/*.log.gz")) == 72
    assert per_day == {"2024-04-19": 31_367, "2024-04-20": 39_073, "2024-04-21": 35_478}


def test_hubble_samples_total_1916_flows() -> None:
    results = [parse_file(path) for path in sorted((data_dir() / "hubble").glob("*.json"))]
    assert sum(r.records for r in results) == 1916
    assert sum(r.accepted + r.skipped for r in results) == 1916
    assert {reason for r in results for reason in r.skip_reasons} == {"reply direction"}


def test_truncated_zeek_reports_its_cut_line() -> None:
    result = parse_file(data_file("zeek/rita-truncated/conn.log"))
    assert [bad.line for bad in result.errors] == [67]
    assert "fewer fields" in result.errors[0].reason
    assert result.accepted == 58


def test_masked_ts_lines_are_bad_lines_with_their_numbers() -> None:
    result = parse_file(data_file("zeek/zeek-btest-teredo/conn.current-baseline-masked.log"))
    assert [bad.line for bad in result.errors] == list(range(10, 31))
    assert all(bad.reason == "invalid ts 'XXXXXXXXXX.XXXXXX'" for bad in result.errors)


def test_zeek_fields_come_from_the_header_with_extra_columns() -> None:
    frame = parse_file(data_file("zeek/rita-proxy/conn.log")).frame
    icmp6 = frame.filter(pl.col("protocol") == "icmp6")
    assert icmp6.height > 0
    assert icmp6["dst_ip"].unique().to_list() == ["ff02::2"]
    rolling = parse_file(data_file("zeek/rita-proxy-rolling/conn.16_00_00-17_00_00.log.gz")).frame
    assert rolling["src_ip"].str.contains("worker").sum() == 0  # _node_name is not an address


def test_zeek_bytes_are_ip_bytes_and_rej_is_reject() -> None:
    frame = parse_file(data_file("zeek/rita-open-conns/open_conn.log")).frame
    first = frame.row(0, named=True)
    # 1517336042.090842 … S0 … orig_pkts 2, orig_ip_bytes 104, resp 0/0
    assert (first["bytes"], first["packets"], first["action"]) == (104, 2, "accept")
    rej = frame.filter(pl.col("src_port") == 49544).row(0, named=True)
    assert (rej["action"], rej["bytes"]) == ("reject", 52 + 40)


def test_zeek_json_and_tsv_twins_give_the_same_flows() -> None:
    for name in ("conn.log", "open_conn.log"):
        as_json = parse_file(data_file(f"zeek/rita-json/{name}")).frame
        as_tsv = parse_file(data_file(f"zeek/rita-open-conns/{name}")).frame
        key = ["ts_start", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "bytes"]
        assert as_json.select(key).sort(key).equals(as_tsv.select(key).sort(key))


def test_vpc_nine_digit_start_is_kept_and_pkt_addresses_win() -> None:
    text = text_of("vpcflow/elastic-integrations/test-v5-all-fields.log")
    # UDP 50041 → 33004, both ephemeral and no flags: nothing says which side asked (issue 19 A2)
    assert parse_file(text).skip_reasons == {"direction unknown": 1}
    row = parse_file(text.replace(b" 50041 33004 ", b" 50041 53 ")).frame.row(0, named=True)
    assert row["ts_start"] == datetime.fromtimestamp(164000066, tz=UTC)
    # pkt-dstaddr 10.200.0.80 is the real destination behind dstaddr 10.200.0.0
    assert (row["src_ip"], row["dst_ip"], row["protocol"], row["action"]) == (
        "89.160.20.156", "10.200.0.80", "udp", "reject",
    )


def test_vpc_transit_gateway_records_have_no_action() -> None:
    frame = parse_file(data_file("vpcflow/elastic-integrations/test-tgw-samples.log")).frame
    assert frame["action"].null_count() == frame.height == 3


def test_vpc_explicit_field_list_for_headerless_custom_format() -> None:
    text = text_of("vpcflow/elastic-integrations/test-tcp-flag-sequence.log")
    header, *lines = [line for line in text.split(b"\n") if line]
    body = b"\n".join(line for line in lines if line != header)
    with pytest.raises(FlowFileRejected, match="values do not fit"):
        parse_file(body, "vpc")  # 21 fields, but not in AWS's default v3 order
    result = parse_file(body, "vpc", vpc_fields=header.decode().split(" "))
    assert counts(result) == ("vpc", 3, 1, 0, 2)


def test_vpc_filebeat_transit_layout_still_lacks_a_start_time() -> None:
    # The field order lives only in filebeat's aws/vpcflow config (its 17-token dissect pattern).
    fields = [
        "version", "interface-id", "account-id", "vpc-id", "subnet-id", "instance-id", "srcaddr",
        "dstaddr", "srcport", "dstport", "protocol", "tcp-flags", "type", "pkt-srcaddr",
        "pkt-dstaddr", "action", "log-status",
    ]
    with pytest.raises(FlowFileRejected, match="lack start"):
        parse_file(data_file("vpcflow/elastic-beats/custom-transit-gateway.log"), vpc_fields=fields)


def test_gzip_is_read_transparently() -> None:
    plain = data_file("zeek/rita-proxy/conn.log").read_bytes()
    assert parse_file(gzip.compress(plain)).frame.equals(parse_file(plain).frame)


@pytest.mark.parametrize(
    ("data", "fmt", "reason"),
    [
        (tiny_png(), "auto", "PNG image"),
        (tiny_png(), "zeek_tsv", "PNG image"),
        (b"1\t2\t3\n", "zeek_tsv", "before any #fields header"),
        (b"", "auto", "empty"),
        (b"", "vpc", "empty"),
        (b" \n\n\t\n", "auto", "empty"),
        (b"name,age,city\nbob,42,paris\n", "auto", "CSV header lacks"),
        (b"name,age,city\nbob,42,paris\n", "csv", "CSV header lacks"),
        (b"lorem ipsum dolor sit amet\n", "auto", "unrecognised format"),
        (b'{"hello": "world"}\n', "auto", "JSON lines without flow keys"),
        (b"\x1f\x8bnot really gzip", "auto", "gzip"),
    ],
)
def test_not_flow_files_are_rejected(data: bytes, fmt: str, reason: str) -> None:
    with pytest.raises(FlowFileRejected) as caught:
        parse_file(data, fmt)  # type: ignore[arg-type]
    assert reason in str(caught.value)


def test_detect_format_of_samples() -> None:
    for relative, expected in EXPECTED.items():
        assert detect_format(text_of(relative)[:65536]) == expected[0], relative
