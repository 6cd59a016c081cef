"""Property tests: arbitrary bytes never crash a parser, and every line is accounted for."""

from __future__ import annotations

import gzip

import pytest
from flow_data import text_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.engines.flows import CANONICAL_SCHEMA, FLOW_FORMATS, FlowFileRejected, ParseResult, parse_file
from jobs.engines.flows.source import GZIP_MAGIC

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORMATS = ["auto", *FLOW_FORMATS]

# (sample, number of header lines kept intact, format)
SAMPLES = [
    ("zeek/rita-truncated/conn.log", 8, "zeek_tsv"),
    ("zeek/zeek-btest-teredo/conn.2019-baseline.log", 8, "zeek_tsv"),
    ("zeek/rita-json/conn.log", 0, "zeek_json"),
    ("vpcflow/elastic-beats/accept-reject-traffic.log", 1, "vpc"),
    ("vpcflow/elastic-integrations/test-extra-samples.log", 0, "vpc"),
    ("hubble/basic-sample-10-flows.json", 0, "hubble"),
]

# Ways to damage one line (never adding a line break): cut it, splice in junk, replace it, blank it.
one_line = st.binary(max_size=60).map(lambda raw: raw.replace(b"\n", b""))
damage = st.one_of(
    st.tuples(st.just("cut"), st.integers(0, 400)),
    st.tuples(st.just("junk"), one_line.filter(bool)),
    st.tuples(st.just("replace"), one_line),
    st.tuples(st.just("blank"), st.sampled_from([b"", b"   ", b"\t"])),
)


def check_invariants(result: ParseResult) -> None:
    assert result.accepted + result.rejected + result.skipped == result.records
    assert result.frame.height == result.accepted
    assert dict(result.frame.schema) == CANONICAL_SCHEMA
    assert len(result.errors) == min(result.rejected, 1000)
    lines = [bad.line for bad in result.errors]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    for column in ("ts_start", "src_ip", "dst_ip", "protocol", "bytes", "packets"):
        assert result.frame[column].null_count() == 0


def damaged(line: bytes, how: tuple[str, object]) -> bytes:
    kind, arg = how
    if kind == "cut":
        assert isinstance(arg, int)
        return line[:arg]
    if kind == "junk":
        assert isinstance(arg, bytes)
        return line[: len(line) // 2] + arg + line[len(line) // 2 :]
    assert isinstance(arg, bytes)
    return arg


@pytest.mark.parametrize("fmt", FORMATS)
@FUZZ
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(fmt: str, data: bytes) -> None:
    try:
        result = parse_file(data, fmt)  # type: ignore[arg-type]
    except FlowFileRejected as rejected:
        assert rejected.reason
        return
    check_invariants(result)


@FUZZ
@given(data=st.binary(max_size=600), fmt=st.sampled_from(FORMATS))
def test_arbitrary_gzip_never_crashes(data: bytes, fmt: str) -> None:
    try:
        result = parse_file(gzip.compress(data), fmt)  # type: ignore[arg-type]
    except FlowFileRejected:
        return
    check_invariants(result)


@FUZZ
@given(
    sample=st.sampled_from(SAMPLES),
    edits=st.dictionaries(st.integers(0, 30), damage, max_size=6),
)
def test_every_line_is_accepted_rejected_or_skipped(
    sample: tuple[str, int, str], edits: dict[int, tuple[str, object]]
) -> None:
    relative, header_lines, fmt = sample
    lines = [line for line in text_of(relative).split(b"\n") if line]
    header = lines[:header_lines]
    body = [line for line in lines[header_lines:] if not line.startswith(b"#")][:30]
    body = [damaged(line, edits[i]) if i in edits else line for i, line in enumerate(body)]
    # Damage must not turn a data line into a header/comment line.
    body = [b"x" + line if line.startswith(b"#") else line for line in body]
    text = b"\n".join(header + body)
    # Nor turn the file into "gzip": a file that starts with the gzip magic is read as gzip, and refused whole
    # when it is not (test_arbitrary_bytes_never_crash covers that).
    text = b"x" + text if text.startswith(GZIP_MAGIC) else text
    try:
        result = parse_file(text, fmt)  # type: ignore[arg-type]
    except FlowFileRejected:
        assert fmt == "vpc" and header_lines == 0  # header-less VPC is judged by its first lines
        return
    check_invariants(result)
    data_lines = sum(1 for line in body if line.strip(b" \t\r\x0b\x0c"))
    assert result.records == data_lines
