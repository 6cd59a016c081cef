"""Issue 19 part A: Hubble replies are not connections, one identity is one workload.

Built from the exact lines the issue cites (../shared/data/hubble; skipped when absent), plus small
hand-made flows for each direction signal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobs.engines.flows.hubble import HubbleParser
from jobs.engines.flows.hubble_direction import REPLY_SKIP, UNKNOWN_SKIP
from tests.conftest import SHARED_DATA

TCP_FILE = SHARED_DATA / "hubble" / "basic-sample-400-tcp-flows.json"


def _lines(path: Path) -> list[bytes]:
    if not path.exists():
        pytest.skip(f"{path} is absent (shared sample data not installed)")
    return path.read_bytes().split(b"\n")


def _flow(*, src: tuple[str, int], dst: tuple[str, int], proto: str = "TCP", **extra: object) -> bytes:
    l4 = {proto: {"source_port": src[1], "destination_port": dst[1]}}
    flow = {"time": "2021-11-10T10:40:59Z", "verdict": "FORWARDED", "IP": {"source": src[0], "destination": dst[0]},
            "l4": l4, **extra}
    return json.dumps({"flow": flow}).encode() + b"\n"


@pytest.mark.parametrize("number", [261, 282])
def test_cited_reply_lines_are_skipped_as_replies(number: int) -> None:
    line = _lines(TCP_FILE)[number - 1]
    result = HubbleParser().parse_chunk(line + b"\n", number)
    assert result.frame.height == 0
    assert result.skip_reasons == {REPLY_SKIP: 1}


def test_no_edge_to_the_ephemeral_ports_of_the_cited_lines() -> None:
    frame = HubbleParser().parse_chunk(b"\n".join(_lines(TCP_FILE)), 1).frame
    assert frame.filter(frame["dst_port"].is_in([39472, 58950])).height == 0


def test_is_reply_wins_over_ports() -> None:
    data = _flow(src=("10.0.0.1", 40000), dst=("10.0.0.2", 80), is_reply=True)
    assert HubbleParser().parse_chunk(data, 1).skip_reasons == {REPLY_SKIP: 1}


def test_a_server_port_seen_in_the_batch_decides() -> None:
    # Both ports ephemeral: only the request to 10.0.0.2:50051 tells which side serves.
    data = (_flow(src=("10.0.0.1", 40000), dst=("10.0.0.2", 50051), is_reply=False)
            + _flow(src=("10.0.0.2", 50051), dst=("10.0.0.3", 41000))
            + _flow(src=("10.0.0.3", 41001), dst=("10.0.0.2", 50051)))
    result = HubbleParser().parse_chunk(data, 1)
    assert result.skip_reasons == {REPLY_SKIP: 1}
    assert sorted(result.frame["src_ip"].to_list()) == ["10.0.0.1", "10.0.0.3"]


def test_undecidable_flow_is_counted_as_unknown_not_kept() -> None:
    data = _flow(src=("10.0.0.1", 40000), dst=("10.0.0.2", 41000))
    result = HubbleParser().parse_chunk(data, 1)
    assert result.frame.height == 0
    assert result.skip_reasons == {UNKNOWN_SKIP: 1}


def test_icmp_echo_reply_is_a_reply() -> None:
    flow = {"time": "2021-11-10T10:40:59Z", "IP": {"source": "10.0.0.2", "destination": "10.0.0.1"},
            "l4": {"ICMPv4": {"type": 0, "code": 0}}}
    result = HubbleParser().parse_chunk(json.dumps({"flow": flow}).encode(), 1)
    assert result.skip_reasons == {REPLY_SKIP: 1}


def test_identity_3418_is_one_workload_whichever_record_names_it() -> None:
    lines = [line for line in _lines(TCP_FILE) if b'"identity":3418' in line]
    records = [json.loads(line)["flow"] for line in lines]
    with_pod = next(i for i, r in enumerate(records) if r["source"].get("identity") == 3418 and "pod_name" in r["source"])
    without = next(i for i, r in enumerate(records) if r["source"].get("identity") == 3418
                   and "pod_name" not in r["source"])
    names = set()
    for index in (with_pod, without):
        flow = records[index]
        flow["is_reply"] = False  # the name is under test here, not the direction
        frame = HubbleParser().parse_chunk(json.dumps({"flow": flow}).encode(), 1).frame
        names.add((frame["src_namespace"].item(), frame["src_name"].item()))
    assert names == {("bookinfo", "productpage-v1")}


def test_syn_ack_is_a_reply_and_syn_a_request_whatever_the_ports() -> None:
    # Both ports ephemeral and no is_reply: only the flags tell.
    syn_ack = _flow(src=("10.0.0.2", 50051), dst=("10.0.0.1", 40000))
    syn_ack = syn_ack.replace(b'"destination_port": 40000', b'"destination_port": 40000, "flags": {"SYN": true, "ACK": true}')
    syn = _flow(src=("10.0.0.1", 40001), dst=("10.0.0.2", 50051))
    syn = syn.replace(b'"destination_port": 50051', b'"destination_port": 50051, "flags": {"SYN": true}')
    assert HubbleParser().parse_chunk(syn_ack, 1).skip_reasons == {REPLY_SKIP: 1}
    kept = HubbleParser().parse_chunk(syn, 1)
    assert (kept.skip_reasons, kept.frame["dst_port"].to_list()) == ({}, [50051])


def test_tcp_flags_of_a_wrong_type_make_a_bad_line() -> None:
    line = _flow(src=("10.0.0.1", 40001), dst=("10.0.0.2", 80))
    line = line.replace(b'"destination_port": 80', b'"destination_port": 80, "flags": {"SYN": 1}')
    result = HubbleParser().parse_chunk(line, 1)
    assert result.frame.height == 0 and "is not a boolean" in result.errors[0].reason
