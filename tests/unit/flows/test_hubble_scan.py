"""The native Hubble scanner against a reference built on Python's json module.

The reference (`expected`) spells out the contract of `jobs/engines/flows/_hubble_scan.c` in Python:
blank lines are not records; a line not starting with '{' is "not a JSON object"; anything
json.loads refuses (or NaN/Infinity, a lone surrogate escape, nesting deeper than MAX_DEPTH) is
a syntax error, reported "at column N"; then every occurrence of an extracted field is type
checked in document order (first failure wins, text compared exactly); duplicate keys: last
wins; fields come from the "flow" object when it has them (non-null), else from the top level.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from flow_data import data_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.engines.flows import parse_file
from jobs.engines.flows.hubble_scan import MAX_DEPTH, MIN_PART_BYTES, Endpoint, _scan, scan_chunk
from jobs.engines.flows.source import ensure_utf8

L4_NUMBERS = {
    "TCP": ("source_port", "destination_port"), "UDP": ("source_port", "destination_port"),
    "SCTP": ("source_port", "destination_port"), "ICMPv4": ("type", "code"), "ICMPv6": ("type", "code"),
}
TCP_FLAG_BITS = {"SYN": 1, "ACK": 2, "FIN": 4, "RST": 8}
NO_ENDPOINT: Endpoint = (None, None, None, None)
SYNTAX_REASON = re.compile(r"invalid JSON line: .+ at column \d+")
SYNTAX = "<syntax error>"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# The reference


@dataclass
class Pairs:
    """A JSON object as its (key, value) pairs in document order, duplicates kept."""

    pairs: list[tuple[str, Any]] = field(default_factory=list)


class WrongType(Exception):
    """An extracted field holds another type; the message is the scanner's reason."""


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _nodes(value: Any) -> Iterator[tuple[Any, int]]:
    """Every value and object key with its container depth, walked without recursion (Python's
    own limit is near 1000 frames)."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        yield item, depth
        if isinstance(item, Pairs):
            pending.extend((part, depth + 1) for pair in item.pairs for part in pair)
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)


def _too_deep_or_surrogate(record: Pairs) -> bool:
    """Nesting deeper than MAX_DEPTH, or a lone surrogate (only a \\u escape can make one)."""
    for item, depth in _nodes(record):
        if isinstance(item, Pairs | list) and depth + 1 > MAX_DEPTH:
            return True
        if isinstance(item, str) and any(0xD800 <= ord(char) <= 0xDFFF for char in item):
            return True
    return False


def _string(value: Any, path: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise WrongType(f"{path} is not a string")
    return value


def _integer(value: Any, path: str) -> int | None:
    if value is not None and type(value) is not int:
        raise WrongType(f"{path} is not an integer")
    if value is not None and not -(2**63) <= value < 2**63:
        raise WrongType(f"{path} does not fit in a 64-bit integer")
    return value


def _boolean(value: Any, path: str) -> bool | None:
    if value is not None and type(value) is not bool:
        raise WrongType(f"{path} is not a boolean")
    return value


def _object(value: Any, path: str) -> Pairs:
    if not isinstance(value, Pairs):
        raise WrongType(f"{path} is not an object")
    return value


def _array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise WrongType(f"{path} is not an array")
    return value


def _ip(value: Any, prefix: str) -> dict[str, str | None] | None:
    if value is None:
        return None
    ip: dict[str, str | None] = {"source": None, "destination": None}
    for key, item in _object(value, prefix + "IP").pairs:
        if key in ip:
            ip[key] = _string(item, f"{prefix}IP.{key}")
    return ip


def _l4(value: Any, prefix: str) -> dict[str, list[int | None]] | None:
    if value is None:
        return None
    l4: dict[str, list[int | None]] = {}
    for key, item in _object(value, prefix + "l4").pairs:
        if key not in L4_NUMBERS:
            continue
        l4.pop(key, None)
        if item is None:
            continue
        numbers: list[int | None] = [None, None, None]
        for name, number in _object(item, f"{prefix}l4.{key}").pairs:
            if name in L4_NUMBERS[key]:
                numbers[L4_NUMBERS[key].index(name)] = _integer(number, f"{prefix}l4.{key}.{name}")
            elif key == "TCP" and name == "flags":
                numbers[2] = _tcp_flags(number, f"{prefix}l4.TCP.flags")
        l4[key] = numbers
    return l4


def _tcp_flags(value: Any, path: str) -> int | None:
    """The scanner's bits (SYN 1, ACK 2, FIN 4, RST 8) of the flags set true; the last duplicate wins."""
    if value is None:
        return None
    bits = 0
    for name, flag in _object(value, path).pairs:
        bit = TCP_FLAG_BITS.get(name, 0)
        bits = bits | bit if _boolean(flag, path + ".*") else bits & ~bit
    return bits


def _labels(value: Any, path: str) -> list[str] | None:
    if value is None:
        return None
    labels = _array(value, path)
    if not all(isinstance(label, str) for label in labels):
        raise WrongType(f"{path} is not an array of strings")
    return labels


def _first_workload(value: Any, path: str) -> str | None:
    if value is None:
        return None
    names: list[str | None] = []
    for item in _array(value, path):
        if item is not None and not isinstance(item, Pairs):
            raise WrongType(f"{path} is not an array of objects")
        name = None
        for key, text in item.pairs if item is not None else ():
            if key == "name":
                name = _string(text, f"{path}[].name")
        names.append(name)
    return names[0] if names else None


def _endpoint(value: Any, path: str) -> Endpoint | None:
    if value is None:
        return None
    fields: dict[str, Any] = {"namespace": None, "pod_name": None, "workload": None, "labels": None}
    for key, item in _object(value, path).pairs:
        if key in ("namespace", "pod_name"):
            fields[key] = _string(item, f"{path}.{key}")
        elif key == "labels":
            fields["labels"] = _labels(item, f"{path}.labels")
        elif key == "workloads":
            fields["workload"] = _first_workload(item, f"{path}.workloads")
    return fields["namespace"], fields["pod_name"], fields["workload"], fields["labels"]


def _field(level: dict[str, Any], key: str, value: Any, prefix: str) -> None:
    if key in ("time", "verdict"):
        level[key] = _string(value, prefix + key)
    elif key == "IP":
        level[key] = _ip(value, prefix)
    elif key == "l4":
        level[key] = _l4(value, prefix)
    elif key in ("source", "destination"):
        level[key] = _endpoint(value, prefix + key)
    elif key in ("is_reply", "reply"):
        level[key] = _boolean(value, prefix + key)


def _row(record: Pairs, line: int) -> dict[str, Any]:
    flow: dict[str, Any] | None = None
    top: dict[str, Any] = {}
    for key, value in record.pairs:
        if key == "flow":
            flow = None if value is None else {}
            for name, item in _object(value, "flow").pairs if value is not None else ():
                _field(flow, name, item, "flow.")  # type: ignore[arg-type]  # flow is a dict here
        else:
            _field(top, key, value, "")

    def pick(name: str) -> Any:
        return flow[name] if flow is not None and flow.get(name) is not None else top.get(name)

    ip, l4 = pick("IP"), pick("l4") or {}
    row: dict[str, Any] = {
        "_line": line, "_wrapped": flow is not None, "time": pick("time"), "verdict": pick("verdict"),
        "IP": ip is not None, "IP.source": ip and ip["source"], "IP.destination": ip and ip["destination"],
        "is_reply": pick("is_reply"), "reply": pick("reply"),
        "src_endpoint": pick("source") or NO_ENDPOINT, "dst_endpoint": pick("destination") or NO_ENDPOINT,
    }
    for key, names in L4_NUMBERS.items():
        numbers = l4.get(key, [None, None, None])
        row |= {key: key in l4, f"{key}.{names[0]}": numbers[0], f"{key}.{names[1]}": numbers[1]}
    row["TCP.flags"] = l4.get("TCP", [None, None, None])[2]
    return row


def expected(chunk: bytes, first_line: int = 1) -> dict[int, dict[str, Any] | str]:
    """Line number → row (a dict) or bad-line reason (SYNTAX for any syntax error)."""
    outcome: dict[int, dict[str, Any] | str] = {}
    for number, line in enumerate(ensure_utf8(chunk).split(b"\n"), start=first_line):
        if not line.strip(b" \t\r\x0b\x0c"):
            continue
        if not line.lstrip(b" \t\r").startswith(b"{"):
            outcome[number] = "not a JSON object"
            continue
        try:
            record = json.loads(line.decode(), object_pairs_hook=Pairs, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            outcome[number] = SYNTAX
            continue
        if _too_deep_or_surrogate(record):
            outcome[number] = SYNTAX
            continue
        try:
            outcome[number] = _row(record, number)
        except WrongType as wrong:
            outcome[number] = f"invalid JSON line: {wrong}"
    return outcome


def scanned(chunk: bytes, first_line: int = 1, threads: int = 2) -> dict[int, dict[str, Any] | str]:
    """The scanner's outcome in the reference's shape; syntax reasons are checked and folded."""
    result = scan_chunk(chunk, first_line, threads)
    outcome: dict[int, dict[str, Any] | str] = {}
    for row in result.rows.to_dicts():
        for side in ("src", "dst"):
            row[f"{side}_endpoint"] = result.endpoints[row[f"{side}_endpoint"]]
        outcome[row["_line"]] = row
    for bad in result.bad:
        assert bad.line not in outcome
        syntax = SYNTAX_REASON.fullmatch(bad.reason) is not None
        outcome[bad.line] = SYNTAX if syntax else bad.reason
    return outcome


def assert_like_reference(chunk: bytes, first_line: int = 1) -> None:
    got, want = scanned(chunk, first_line), expected(chunk, first_line)
    assert got.keys() == want.keys()
    for line, outcome in want.items():
        assert got[line] == outcome, (line, chunk.split(b"\n")[line - first_line][:300])


# ---------------------------------------------------------------------------------------------
# Real samples and tricky lines

GOOD = (
    b'{"flow":{"time":"2024-04-19T00:00:00.123456789Z","verdict":"FORWARDED","IP":{"source":"10.0.0.1",'
    b'"destination":"10.0.0.2","ipVersion":"IPv4"},"l4":{"TCP":{"source_port":43512,"destination_port":443,'
    b'"flags":{"SYN":true}}},"source":{"ID":7,"namespace":"shop","pod_name":"cart-7d4b9c8f6d-x2x9q",'
    b'"labels":["k8s:app=cart","k8s:io.kubernetes.pod.namespace=shop"],"workloads":[{"name":"cart","kind":"Deployment"}]},'
    b'"destination":{"identity":2,"labels":["reserved:world"]},"is_reply":false},"node_name":"kind-worker"}'
)


def with_flow(text: str) -> bytes:
    """GOOD with the text `text` spliced in as the flow object's first members."""
    return GOOD.replace(b'{"flow":{', b'{"flow":{' + text.encode(), 1)


TRICKY = [
    GOOD, GOOD + b"\r", b"  \t" + GOOD + b" \r", b"", b"   ", b"\t\r", b"\x0b", b"\x0c ",
    b"null", b"  null  ", b"[1]", b'"x"', b"123", b"garbage", b" \x0b{}", b"{}", b"{ }", b'{"flow":null}',
    b'{"flow":{}}', b'{"flow":3}', b'{"flow":[]}', b'{"flow":"x"}', b"{", b'{"a"', b'{"a":', b'{"a":1', b'{"a" 1}',
    b'{"a":1,}', b'{,"a":1}', b'{"a":[1,]}', b'{"a":[,1]}', b'{"a":01}', b'{"a":1.}', b'{"a":.5}', b'{"a":-}',
    b'{"a":1e}', b'{"a":1e+}', b'{"a":-0}', b'{"a":1E-7}', b'{"a":NaN}', b'{"a":Infinity}', b'{"a":-Infinity}',
    b'{"a":tru}', b'{"a":nulll}', b'{"a":True}', b'{a:1}', b"{'a':1}", b'{"a":"\t"}', b'{"a":"\x01"}',
    b'{"a":"\\x"}', b'{"a":"\\u12"}', b'{"a":"\\u12g4"}', b'{"a":"\\ud800"}', b'{"a":"\\udc00"}',
    b'{"a":"\\ud800\\u0041"}', b'{"a":"\\ud83d\\ude00"}', b'{"\\u0061":"\\"\\\\\\/\\b\\f\\n\\r\\t"}',
    GOOD + b"x", GOOD + b"{}", GOOD + b" ,", GOOD[:-1], GOOD[:100], GOOD[:-30],
    b'{"a":' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}", b'{"a":' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}",
    b'{"a":' + b"[" * 100_000, b'{"a":' + b'{"b":' * 600 + b"1" + b"}" * 600 + b"}",
    # escaped keys still name our fields; unicode text is kept
    b'{"fl\\u006fw":{"t\\u0069me":"2024-04-19T00:00:00Z","IP":{"source":"\\u0031\\u0030.0.0.1","destination":"\xc3\xa9"}}}',
    b'{"flow":{"verdict":"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\u00e9 \\ud83d\\ude00"}}',
    # wrong types, at both levels, in document order
    with_flow('"time":12,'), with_flow('"time":true,'), with_flow('"verdict":{},'), with_flow('"IP":"x",'),
    with_flow('"IP":[],'), with_flow('"IP":{"source":1},'), with_flow('"l4":[],'), with_flow('"l4":{"UDP":1},'),
    with_flow('"l4":{"TCP":{"source_port":"1"}},'), with_flow('"l4":{"TCP":{"source_port":1.0}},'),
    with_flow('"l4":{"TCP":{"source_port":1e2}},'), with_flow('"l4":{"ICMPv6":{"code":true}},'),
    with_flow('"l4":{"TCP":{"source_port":9223372036854775807,"destination_port":-9223372036854775808}},'),
    with_flow('"l4":{"TCP":{"source_port":9223372036854775808}},'),
    with_flow('"l4":{"TCP":{"destination_port":-9223372036854775809}},'),
    with_flow('"l4":{"SCTP":{"source_port":99999999999999999999999}},'), with_flow('"source":[],'),
    with_flow('"source":{"labels":"a"},'), with_flow('"source":{"labels":[1]},'), with_flow('"source":{"labels":[null]},'),
    with_flow('"source":{"labels":{}},'), with_flow('"destination":{"workloads":{}},'),
    with_flow('"destination":{"workloads":[1]},'), with_flow('"destination":{"workloads":[{"name":5}]},'),
    with_flow('"destination":{"workloads":[null,{"name":[]}]},'), with_flow('"is_reply":1,'),
    with_flow('"reply":"true",'), with_flow('"source":{"namespace":7},'), with_flow('"source":{"pod_name":false},'),
    GOOD.replace(b',"node_name":"kind-worker"}', b',"time":5}'), GOOD.replace(b',"node_name":"kind-worker"}', b',"IP":1}'),
    with_flow('"time":5,"a":['),  # a syntax error later in the line wins over the type error
    # nulls everywhere are fine
    with_flow('"time":null,"verdict":null,"IP":null,"l4":null,"source":null,"destination":null,"is_reply":null,'),
    with_flow('"IP":{"source":null,"destination":null},"l4":{"TCP":null,"UDP":{"source_port":null}},'),
    with_flow('"source":{"namespace":null,"pod_name":null,"labels":null,"workloads":null},'),
    with_flow('"source":{"labels":[],"workloads":[]},"destination":{"workloads":[null,{"name":"x"}]},'),
    # duplicate keys: the last one wins (types of every occurrence are checked)
    with_flow('"IP":{"source":"10.9.9.9","source":"10.8.8.8"},'), with_flow('"time":5,"time":"2024-04-19T00:00:00Z",'),
    GOOD.replace(b',"node_name":"kind-worker"}', b',"flow":null}'),
    GOOD.replace(b',"node_name":"kind-worker"}', b',"flow":{"verdict":"DROPPED"}}'),
    with_flow('"l4":{"UDP":{"source_port":53}},"l4":{"TCP":{"source_port":1},"TCP":null},'),
    # top-level fields fill what the flow lacks, per field group
    b'{"time":"2024-04-19T00:00:00Z","IP":{"source":"10.0.0.1"},"flow":{"IP":{"destination":"10.0.0.2"}},"verdict":"DROPPED"}',
    b'{"time":"2024-04-19T00:00:00Z","l4":{"UDP":{"source_port":53}},"flow":{"l4":{}},"source":{"namespace":"a"},'
    b'"flow":{"source":{},"is_reply":null},"reply":true}',
    b'{"time":"2024-04-19T00:00:00Z","verdict":"DROPPED","IP":{"source":"10.0.0.1","destination":"10.0.0.2"},'
    b'"l4":{"ICMPv4":{"type":8,"code":0}},"destination":{"namespace":"n","labels":["k8s:app=a"]}}',
]


def test_scanner_matches_json_on_every_hubble_sample() -> None:
    for path in sorted((data_dir() / "hubble").glob("*.json")):
        chunk = path.read_bytes()
        result = scanned(chunk)
        assert all(not isinstance(outcome, str) for outcome in result.values()), path
        assert_like_reference(chunk)


@pytest.mark.parametrize("first_line", [1, 1000])
def test_scanner_matches_json_on_tricky_lines(first_line: int) -> None:
    assert_like_reference(b"\n".join(TRICKY), first_line)
    assert_like_reference(b"\r\n".join(TRICKY) + b"\n", first_line)


@pytest.mark.parametrize("line", TRICKY)
def test_each_tricky_line_alone(line: bytes) -> None:
    assert_like_reference(line)


def test_type_errors_name_the_field() -> None:
    result = scan_chunk(b"\n".join([
        with_flow('"l4":{"TCP":{"source_port":"1"}},'), with_flow('"source":{"labels":[null]},'),
        GOOD.replace(b',"node_name":"kind-worker"}', b',"IP":1}'), with_flow('"l4":{"UDP":{"destination_port":1e400}},'),
        with_flow('"l4":{"SCTP":{"source_port":99999999999999999999}},'),
    ]), 1)
    assert [bad.reason for bad in result.bad] == [
        "invalid JSON line: flow.l4.TCP.source_port is not an integer",
        "invalid JSON line: flow.source.labels is not an array of strings",
        "invalid JSON line: IP is not an object",
        "invalid JSON line: flow.l4.UDP.destination_port is not an integer",
        "invalid JSON line: flow.l4.SCTP.source_port does not fit in a 64-bit integer",
    ]


def test_syntax_errors_say_what_and_where() -> None:
    result = scan_chunk(b'{"a":1\n{"a" 1}\n{"a":"\\ud800"}\n{"a":' + b"[" * 600, 1)
    assert [bad.reason for bad in result.bad] == [
        "invalid JSON line: unexpected end of line at column 7",
        "invalid JSON line: expected ':' after an object key at column 6",
        "invalid JSON line: unpaired UTF-16 surrogate in a \\u escape at column 7",
        "invalid JSON line: nested deeper than 512 levels at column 517",
    ]


def test_invalid_utf8_in_a_string_is_replaced_and_the_line_kept() -> None:
    chunk = GOOD.replace(b'"FORWARDED"', b'"FORW\xffARDED"')
    with pytest.raises(UnicodeDecodeError):
        _scan(chunk, 1, 1)
    result = scan_chunk(chunk + b"\n" + GOOD, 5)
    assert result.rows["verdict"].to_list() == ["FORW\ufffdARDED", "FORWARDED"]
    assert result.rows["_line"].to_list() == [5, 6]
    assert_like_reference(chunk + b"\n" + GOOD + b"\n{\xff}\n\xfe\xff")


def test_endpoints_are_numbered_once_in_order_of_first_appearance() -> None:
    result = scan_chunk(b"\n".join([GOOD, GOOD, b'{"flow":{}}']), 1)
    assert result.endpoints == [
        ("shop", "cart-7d4b9c8f6d-x2x9q", "cart", ["k8s:app=cart", "k8s:io.kubernetes.pod.namespace=shop"]),
        (None, None, None, ["reserved:world"]),
        NO_ENDPOINT,
    ]
    assert result.rows.select("src_endpoint", "dst_endpoint").rows() == [(0, 1), (0, 1), (2, 2)]


def test_columns_are_valid_arrow() -> None:
    table = scan_chunk(b"\n".join(TRICKY), 1).rows.to_arrow()
    table.validate(full=True)
    assert table.num_rows == sum(1 for outcome in expected(b"\n".join(TRICKY)).values() if not isinstance(outcome, str))


def test_threads_split_the_chunk_and_give_the_same_result() -> None:
    samples = [path.read_bytes() for path in sorted((data_dir() / "hubble").glob("*.json"))]
    chunk = b"\n".join([*samples, *TRICKY, *samples, *TRICKY]).replace(b"\n\n", b"\n \n")
    assert len(chunk) > 3 * MIN_PART_BYTES
    one, two, three = (scan_chunk(chunk, 7, threads) for threads in (1, 2, 3))
    assert len(_scan(chunk, 7, 3)[1]) == 3
    for other in (two, three):
        assert other.rows.equals(one.rows)
        assert (other.endpoints, other.bad) == (one.endpoints, one.bad)
    assert_like_reference(chunk, 7)


def test_empty_chunks() -> None:
    for chunk in (b"", b"\n", b"\n\n \n"):
        result = scan_chunk(chunk, 1)
        assert (result.rows.height, result.endpoints, result.bad) == (0, [], [])
        assert result.rows.columns[:2] == ["_line", "_wrapped"]


def test_parse_file_reports_the_scanner_reasons() -> None:
    result = parse_file(b"\n".join([GOOD, with_flow('"IP":"x",'), b"[1]", GOOD]), "hubble")
    assert (result.records, result.accepted, result.rejected) == (4, 2, 2)
    assert [(bad.line, bad.reason) for bad in result.errors] == [
        (2, "invalid JSON line: flow.IP is not an object"), (3, "not a JSON object"),
    ]
    assert result.frame.select("src_name", "dst_name", "dst_port").rows() == [("cart", "world", 443)] * 2


# ---------------------------------------------------------------------------------------------
# Fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
texts = st.text(max_size=12) | st.text(st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=3)
numbers = st.integers() | st.integers(min_value=2**63 - 2, max_value=2**63 + 1) | st.integers(max_value=-(2**63) + 1)


def maybe(right: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The right type, null, or any JSON value."""
    return st.one_of(right, right, st.none(), json_values)


def optional(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={**fields, "other": json_values})


endpoints = optional({
    "namespace": maybe(texts), "pod_name": maybe(texts), "labels": maybe(st.lists(texts, max_size=3)),
    "workloads": maybe(st.lists(st.none() | optional({"name": maybe(texts)}), max_size=2)),
})
l4s = optional({key: maybe(optional({a: maybe(numbers), b: maybe(numbers)})) for key, (a, b) in L4_NUMBERS.items()})
flows = optional({
    "time": maybe(texts), "verdict": maybe(st.sampled_from(["FORWARDED", "DROPPED"])),
    "IP": maybe(optional({"source": maybe(texts), "destination": maybe(texts)})), "l4": maybe(l4s),
    "source": maybe(endpoints), "destination": maybe(endpoints), "is_reply": maybe(st.booleans()),
    "reply": maybe(st.booleans()),
})
records = flows | st.fixed_dictionaries({"flow": maybe(flows)}, optional={"time": maybe(texts), "IP": json_values})
damages = st.one_of(
    st.just(("keep", 0, b"")), st.tuples(st.just("cut"), st.integers(0, 400), st.just(b"")),
    st.tuples(st.sampled_from(["insert", "replace"]), st.integers(0, 400), st.sampled_from(list(b'{}[],:"\\ 0e-.tfn\r\t'))),
)


@st.composite
def json_lines(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        text = json.dumps(draw(records), ensure_ascii=draw(st.booleans()), separators=draw(st.sampled_from(
            [(",", ":"), (", ", ": "), (" ,", " :\t")])))
        line = text.encode("utf-8", "surrogatepass")  # a raw surrogate is invalid UTF-8
        kind, at, byte = draw(damages)
        at = min(at, len(line))
        if kind == "cut":
            line = line[:at]
        elif kind == "insert":
            line = line[:at] + bytes([byte]) + line[at:]
        elif kind == "replace":
            line = line[:at] + bytes([byte]) + line[at + 1 :]
        lines.append(line)
    return b"\n".join(lines)


@FUZZ
@given(chunk=json_lines())
def test_json_ish_lines_match_the_reference(chunk: bytes) -> None:
    assert_like_reference(chunk)


@FUZZ
@given(chunk=st.binary(max_size=400) | st.lists(st.sampled_from([*TRICKY, b"{", b"}", b"\n"]), max_size=8).map(b"".join))
def test_arbitrary_bytes_never_crash_and_every_line_is_counted(chunk: bytes) -> None:
    result = scan_chunk(chunk, 1)
    lines = [line for line in chunk.split(b"\n") if line.strip(b" \t\r\x0b\x0c")]
    assert result.rows.height + len(result.bad) == len(lines)
    assert [bad.line for bad in result.bad] == sorted({bad.line for bad in result.bad})
    assert_like_reference(chunk)


def test_many_chunks_scanned_concurrently_from_python_threads() -> None:
    # The scanner releases the GIL; chunks scanned side by side must not disturb each other.
    chunk = b"\n".join(TRICKY * 20)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda first: scan_chunk(chunk, first, 2), range(1, 9)))
    for first, result in enumerate(results, start=1):
        assert result.rows["_line"].to_list() == [line + first - 1 for line in results[0].rows["_line"].to_list()]
        assert result.rows.drop("_line").equals(results[0].rows.drop("_line"))
