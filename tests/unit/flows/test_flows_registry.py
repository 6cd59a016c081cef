"""The formats registry: the Literal, the names users give, detection and parsers all come from `FORMATS`."""

from __future__ import annotations

from typing import get_args

import pytest

from jobs.engines.flows.detect import detect_format
from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.formats import (
    ALLOWED_FOR_ALIAS,
    FLOW_FORMATS,
    FORMAT_ALIASES,
    FORMAT_NAMES,
    FORMATS,
    FlowFormat,
    FlowFormatSpec,
    format_spec,
    parser_format,
)
from jobs.engines.flows.parse import make_parser, parse_file

# The first bytes of one small file per format, each detected as that format.
HEADS: dict[str, bytes] = {
    "zeek_tsv": b"#separator \\x09\n#fields\tts\tuid\tid.orig_h\n",
    "vpc": b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
           b"action log-status\n2 1 eni-1 10.0.0.1 10.0.0.2 4 5 6 1 40 1700000000 1700000060 ACCEPT OK\n",
    "hubble": b'{"flow": {"verdict": "FORWARDED"}, "time": "2024-01-01T00:00:00Z"}\n',
    "zeek_json": b'{"ts": 1700000000.0, "uid": "C1", "id.orig_h": "10.0.0.1", "id.resp_h": "10.0.0.2"}\n',
    "csv": b"ts_start,src_ip,dst_ip,protocol\n2024-01-01T00:00:00Z,10.0.0.1,10.0.0.2,tcp\n",
    "jsonl": b'{"ts_start": "2024-01-01T00:00:00Z", "src_ip": "10.0.0.1", "dst_ip": "10.0.0.2"}\n',
}


def test_the_flow_format_literal_names_exactly_the_registry() -> None:
    assert sorted(get_args(FlowFormat)) == sorted(FLOW_FORMATS)
    assert len(set(FLOW_FORMATS)) == len(FLOW_FORMATS)


def test_every_format_has_a_head_that_is_detected_as_it() -> None:
    assert set(HEADS) == set(FLOW_FORMATS)
    for name, head in HEADS.items():
        assert detect_format(head) == name, name


def test_a_hubble_object_with_zeek_keys_is_hubble_and_a_comma_makes_csv_not_vpc() -> None:
    assert detect_format(b'{"flow": {}, "uid": "C1", "id.orig_h": "10.0.0.1"}\n') == "hubble"
    assert detect_format(b"2 1 eni-1 10.0.0.1 10.0.0.2 4,5 6 1 40\n") == "csv"


def test_every_parser_loads_from_its_dotted_path() -> None:
    for spec in FORMATS:
        parser = make_parser(spec.name)
        assert type(parser).__name__ == spec.parser.partition(":")[2], spec.name
        assert callable(parser.parse_chunk)


def test_the_vpc_parser_gets_the_field_list_of_a_headerless_file() -> None:
    fields = ["srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "action"]
    result = parse_file(b"10.0.0.1 10.0.0.2 40000 443 6 1 40 1700000000 1700000060 ACCEPT\n", "vpc", vpc_fields=fields)
    assert (result.format, result.accepted, result.frame["dst_port"][0]) == ("vpc", 1, 443)


def test_the_names_users_give_come_from_the_aliases_in_registry_order() -> None:
    assert FORMAT_NAMES == ("auto", "zeek", "vpcflow", "hubble", "csv", "jsonl")
    assert FORMAT_ALIASES == {"auto": "auto", "zeek": "auto", "vpcflow": "vpc", "hubble": "hubble", "csv": "csv",
                              "jsonl": "jsonl"}
    assert {"zeek": frozenset({"zeek_tsv", "zeek_json"})} == ALLOWED_FOR_ALIAS
    assert [parser_format(name) for name in FORMAT_NAMES] == list(FORMAT_ALIASES.values())


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="choose one of auto, zeek"):
        parser_format("zeek_tsv")
    with pytest.raises(ValueError, match="unknown flow format 'pcap'"):
        format_spec("pcap")
    with pytest.raises(ValueError, match="unknown flow format"):
        parse_file(HEADS["csv"], "pcap")  # type: ignore[arg-type]


def test_a_spec_refuses_a_parser_that_is_not_a_dotted_path_or_the_reserved_alias() -> None:
    sniff = FORMATS[0].sniff
    with pytest.raises(ValueError, match="module:factory"):
        FlowFormatSpec("csv", "CSV", ("csv",), "text", sniff, "jobs.engines.flows.canonical.CanonicalCsvParser")
    with pytest.raises(ValueError, match="reserved"):
        FlowFormatSpec("csv", "CSV", ("auto",), "text", sniff, "jobs.engines.flows.canonical:CanonicalCsvParser")


def test_a_family_without_a_matching_format_is_rejected_with_its_reason() -> None:
    with pytest.raises(FlowFileRejected, match="no Zeek #fields header"):
        detect_format(b"# a comment\n1 2 3\n")
    with pytest.raises(FlowFileRejected, match="not JSON objects"):
        detect_format(b"{not json\n")
