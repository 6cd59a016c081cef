"""Odd characters in flow lines: a NUL in any text field is a bad line in every format (PostgreSQL cannot store it,
so one used to break every later snapshot build of the tenant); a line of only whitespace is no record."""

from __future__ import annotations

import json

import polars as pl
import pytest
from flow_data import text_of

from jobs.engines.flows import parse_file

HUBBLE_10 = "hubble/basic-sample-10-flows.json"


def jsonl(**changes: object) -> bytes:
    record = {"ts_start": "2024-01-01T00:00:00Z", "ts_end": "2024-01-01T00:00:01Z", "src_ip": "10.0.0.1",
              "dst_ip": "10.0.0.2", "dst_port": 80, "protocol": "tcp", "src_name": "web"}
    record.update(changes)
    return json.dumps(record).encode()


@pytest.mark.parametrize(("changes", "why"), [
    ({"src_name": "web\u0000evil"}, "src_name contains a NUL character"),
    ({"dst_namespace": "\u0000"}, "dst_namespace contains a NUL character"),
    ({"src_labels": '{"app":"a\u0000b"}'}, "invalid src_labels"),
])
def test_a_nul_in_a_canonical_jsonl_field_is_a_bad_line(changes: dict[str, object], why: str) -> None:
    good = jsonl()
    result = parse_file(good + b"\n" + jsonl(**changes) + b"\n" + good, "jsonl")
    assert (result.accepted, result.rejected) == (2, 1)
    assert result.errors[0].line == 2
    assert why in result.errors[0].reason


def test_a_nul_in_a_hubble_pod_name_is_a_bad_line() -> None:
    lines = text_of(HUBBLE_10).split(b"\n")
    record = json.loads(lines[1])
    record["flow"]["source"]["pod_name"] = "evil\u0000pod-7d4b9c8f5-abcde"
    result = parse_file(b"\n".join([lines[0], json.dumps(record).encode(), lines[2]]), "hubble")
    assert result.rejected == 1
    assert "NUL" in result.errors[0].reason
    assert not result.frame["src_name"].str.contains("\x00", literal=True).any()


def test_a_nul_in_a_zeek_tsv_service_field_never_reaches_the_frame() -> None:
    header = ("#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\t"
              "duration\torig_bytes\tresp_bytes\tconn_state\n")
    row = "1700000000.0\tC1\t10.0.0.1\t1234\t10.0.0.2\t80\ttcp\tht\x00tp\t1.0\t10\t20\tSF\n"
    result = parse_file((header + row).encode(), "zeek_tsv")
    for column in result.frame.columns:
        if result.frame[column].dtype == pl.Utf8:
            assert not result.frame[column].str.contains("\x00", literal=True).any(), column


@pytest.mark.parametrize("blank", [b"\x0b", b"\x0c \t", b" \r"])
def test_a_line_of_only_whitespace_is_no_record_in_delimited_formats(blank: bytes) -> None:
    # hypothesis found a vertical tab alone on a Zeek line counted as a bad record
    csv = b"ts_start,src_ip,dst_ip,dst_port,protocol\n2024-01-01T00:00:00Z,10.0.0.1,10.0.0.2,1,tcp\n" + blank + b"\n"
    result = parse_file(csv, "csv")
    assert (result.records, result.accepted, result.rejected) == (1, 1, 0)
