"""Format behaviours: Hubble identities and verdicts, canonical round trips, batches, line numbers."""

from __future__ import annotations

import json

import polars as pl
import pytest
from flow_data import data_dir, data_file, text_of

from jobs.engines.flows import MAX_STORED_ERRORS, FlowFileRejected, ParseResult, iter_batches, parse_file

HUBBLE_10 = "hubble/basic-sample-10-flows.json"


def hubble_line(**flow_changes: object) -> bytes:
    """The second flow of the 10-flow sample (a request), with some flow fields replaced."""
    record = json.loads(text_of(HUBBLE_10).split(b"\n")[1])
    record["flow"].update(flow_changes)
    return json.dumps(record).encode()


def totals(batches: list[ParseResult]) -> tuple[int, int, int, int]:
    return (
        sum(b.records for b in batches), sum(b.accepted for b in batches),
        sum(b.rejected for b in batches), sum(b.skipped for b in batches),
    )


def test_hubble_workload_names_namespaces_and_labels() -> None:
    frame = parse_file(data_file(HUBBLE_10)).frame
    row = frame.filter(pl.col("src_name") == "prometheus").row(0, named=True)
    assert (row["src_namespace"], row["dst_name"], row["dst_namespace"]) == (
        "istio-system", "reviews-v1", "bookinfo",
    )
    assert json.loads(row["src_labels"]) == {"app": "prometheus", "release": "istio"}
    assert row["src_labels"] == '{"app":"prometheus","release":"istio"}'
    host = frame.filter(pl.col("src_name") == "host").row(0, named=True)
    assert (host["src_namespace"], host["src_labels"]) == (None, None)
    assert set(frame.filter(pl.col("dst_name") == "world")["dst_ip"]) == {"35.246.31.234"}


def test_hubble_pod_hash_suffix_is_stripped_across_samples() -> None:
    frame = pl.concat([parse_file(path).frame for path in sorted(data_dir().glob("hubble/*.json"))])
    names = set(frame["src_name"].drop_nulls()) | set(frame["dst_name"].drop_nulls())
    assert {"productpage-v1", "ratings-v1", "details-v1", "reviews-v2", "prometheus"} <= names
    assert {"kube-dns", "node-local-dns", "otelcol-hubble-collector"} <= names
    assert not any(name.endswith(("-9rcxx", "-jgqxb", "-88zrp")) for name in names)


def test_hubble_reply_flows_are_skipped_not_reversed() -> None:
    result = parse_file(data_file(HUBBLE_10))
    assert result.skip_reasons == {"reply direction": 5}
    # The first flow is the reply reviews:15020 → host:42044; only host → reviews:15020 remains.
    edges = set(result.frame.select("src_ip", "dst_ip", "dst_port").iter_rows())
    assert ("10.0.2.1", "10.0.2.16", 15020) in edges
    assert ("10.0.2.16", "10.0.2.1", 42044) not in edges


@pytest.mark.parametrize(
    ("verdict", "action"),
    [("DROPPED", "reject"), ("DENIED", "reject"), ("FORWARDED", "accept"), ("AUDIT", "accept")],
)
def test_hubble_verdicts_map_to_actions(verdict: str, action: str) -> None:
    result = parse_file(hubble_line(verdict=verdict), "hubble")
    assert result.frame["action"].to_list() == [action]


def test_hubble_workloads_field_names_the_workload() -> None:
    line = hubble_line(destination={
        "namespace": "shop", "pod_name": "cart-7d4b9c8f6d-x2x9q",
        "labels": ["k8s:tier=web", "k8s:io.kubernetes.pod.namespace=shop"],
        "workloads": [{"name": "cart-api", "kind": "Deployment"}],
    })
    row = parse_file(line, "hubble").frame.row(0, named=True)
    # Without an app-name label (which would name it: issue 19) the owner names the pod.
    assert (row["dst_name"], row["dst_namespace"], row["dst_labels"]) == ("cart-api", "shop", '{"tier":"web"}')


def test_hubble_bare_flow_objects_and_bad_lines() -> None:
    wrapped = json.loads(hubble_line())
    bare = json.dumps(wrapped["flow"]).encode()
    data = b"\n".join([hubble_line(), bare, b"", b'{"flow": 3}', b'{"other": 1}', hubble_line()[:50]])
    result = parse_file(data, "hubble")
    assert (result.records, result.accepted, result.rejected) == (5, 2, 3)
    assert [bad.line for bad in result.errors] == [4, 5, 6]
    assert "not a Hubble flow" in result.errors[1].reason


def test_canonical_csv_and_jsonl_round_trip() -> None:
    frame = pl.concat([
        parse_file(data_file(HUBBLE_10)).frame,
        parse_file(data_file("zeek/rita-proxy/conn.log")).frame,
        parse_file(data_file("vpcflow/elastic-integrations/test-extra-samples.log")).frame,
    ])
    as_csv = parse_file(frame.write_csv().encode())
    as_jsonl = parse_file(frame.write_ndjson().encode())
    assert (as_csv.format, as_jsonl.format) == ("csv", "jsonl")
    assert as_csv.frame.equals(frame)
    assert as_jsonl.frame.equals(frame)


def test_canonical_csv_bad_values_are_reported_per_line() -> None:
    data = (
        b"ts_start,src_ip,dst_ip,protocol,dst_port,action,src_labels\n"
        b"2024-04-19T10:00:00Z,10.0.0.1,10.0.0.2,6,443,ACCEPT,\"{\"\"b\"\":\"\"2\"\",\"\"a\"\":\"\"1\"\"}\"\n"
        b"yesterday,10.0.0.1,10.0.0.2,tcp,443,accept,\n"
        b"\n"
        b"1713520800.5,10.0.0.1,not-an-ip,udp,53,,\n"
        b"1713520800,10.0.0.1,10.0.0.2,udp,99999,,\n"
        b"1713520800,10.0.0.1,10.0.0.2,udp,53,maybe,\n"
        b"1713520800,10.0.0.1,10.0.0.2,udp,53,,[1]\n"
    )
    result = parse_file(data)
    assert (result.records, result.accepted, result.rejected) == (6, 1, 5)
    assert [(bad.line, bad.reason.split(" ")[1]) for bad in result.errors] == [
        (3, "ts_start"), (5, "dst_ip"), (6, "dst_port"), (7, "action"), (8, "src_labels"),
    ]
    row = result.frame.row(0, named=True)
    assert (row["protocol"], row["action"], row["src_labels"]) == ("tcp", "accept", '{"a":"1","b":"2"}')


def test_zeek_json_iso_timestamps() -> None:
    line = (
        b'{"ts":"2018-01-31T18:25:26.539915Z","id.orig_h":"10.0.0.1","id.orig_p":1,'
        b'"id.resp_h":"10.0.0.2","id.resp_p":80,"proto":"tcp"}'
    )
    frame = parse_file(line).frame
    assert frame["ts_start"].dt.epoch("us").to_list() == [1517423126539915]


def test_concatenated_zeek_logs_switch_header_mid_file() -> None:
    first = text_of("zeek/zeek-btest-teredo/conn.2019-baseline.log")
    second = text_of("zeek/rita-truncated/conn.log")
    result = parse_file(first + second)
    offset = first.count(b"\n")
    assert (result.records, result.accepted, result.rejected) == (21 + 59, 21 + 58, 1)
    assert [bad.line for bad in result.errors] == [offset + 67]


@pytest.mark.parametrize(
    "relative",
    [
        "zeek/rita-truncated/conn.log",
        "zeek/zeek-btest-teredo/conn.current-baseline-masked.log",
        "zeek/rita-proxy-rolling/conn.16_00_00-17_00_00.log.gz",
        "vpcflow/elastic-integrations/test-tcp-flag-sequence.log",
        "hubble/basic-sample-400-tcp-flows.json",
        "zeek/rita-json/open_conn.log",
    ],
)
def test_batches_add_up_to_the_whole_file(relative: str) -> None:
    whole = parse_file(data_file(relative))
    batches = list(iter_batches(data_file(relative), batch_rows=7))
    assert len(batches) >= whole.records // 14
    assert totals(batches) == (whole.records, whole.accepted, whole.rejected, whole.skipped)
    assert [bad for b in batches for bad in b.errors] == whole.errors
    assert pl.concat([b.frame for b in batches]).equals(whole.frame)


def test_iter_batches_rejects_empty_and_non_flow_input() -> None:
    with pytest.raises(FlowFileRejected, match="empty"):
        list(iter_batches(b""))
    with pytest.raises(FlowFileRejected, match="PNG"):
        list(iter_batches(b"\x89PNG\r\n\x1a\n" + b"x" * 100))


def test_error_list_is_capped_but_counts_stay_exact() -> None:
    header, body = text_of("zeek/zeek-btest-teredo/conn.current-baseline-masked.log").split(b"#types")
    types_line, rest = body.split(b"\n", 1)
    rows = [line for line in rest.split(b"\n") if line and not line.startswith(b"#")]
    data = header + b"#types" + types_line + b"\n" + b"\n".join(rows * 100) + b"\n"
    result = parse_file(data)
    assert (result.records, result.rejected) == (2100, 2100)
    assert len(result.errors) == MAX_STORED_ERRORS


def test_zeek_one_bad_number_costs_only_its_line() -> None:
    clean = text_of("zeek/rita-proxy/conn.log")
    lines = clean.split(b"\n")
    fields = lines[20].split(b"\t")
    fields[16] = b"12x"  # orig_pkts
    dirty = b"\n".join([*lines[:20], b"\t".join(fields), *lines[21:]])
    good, bad = parse_file(clean), parse_file(dirty)
    assert (bad.records, bad.accepted, bad.rejected) == (463, 462, 1)
    assert bad.errors[0].line == 21 and bad.errors[0].reason == "invalid orig_pkts '12x'"
    assert bad.frame.equals(good.frame.filter(pl.int_range(pl.len()) != 20 - 8))


@pytest.mark.parametrize("fmt", ["hubble", "zeek_json", "jsonl"])
def test_json_null_lines_are_bad_lines_not_a_crash(fmt: str) -> None:
    # pyarrow 26 segfaults on a block that starts with `null`: such lines must never reach it.
    good = {"hubble": hubble_line(), "zeek_json": text_of("zeek/rita-json/conn.log").split(b"\n")[0],
            "jsonl": b'{"ts_start":"2024-04-19T00:00:00Z","src_ip":"10.0.0.1","dst_ip":"10.0.0.2","protocol":"tcp"}'}[fmt]
    data = b"\n".join([b"null", good, b"  null  ", good, b"[1]", good, b"null"])
    result = parse_file(data, fmt)  # type: ignore[arg-type]
    assert (result.records, result.accepted, result.rejected) == (7, 3, 4)
    assert [bad.line for bad in result.errors] == [1, 3, 5, 7]


VPC_V2 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
VPC_V5 = (
    "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr "
    "pkt-dstaddr protocol bytes packets start end action tcp-flags log-status"
)


def test_vpc_longer_header_mid_file_and_overlong_records_read_every_field() -> None:
    """Known fields narrow the read to their count plus one; a longer header or record must still be
    read whole (exact field counts, the new layout's fields)."""
    v2 = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 49152 443 6 10 840 1700000000 1700000060 ACCEPT OK"
    v5 = ("5 vpc-1 subnet-1 i-1 eni-1 123456789010 IPv4 10.0.0.3 10.0.0.4 22 50000 10.0.0.3 10.0.0.4 6 500 5 "
          "1700000000 1700000060 REJECT 2 OK")
    overlong = v2 + " extra one"
    text = "\n".join([VPC_V2, v2, overlong, VPC_V5, v5, v5]).encode()
    result = parse_file(text, "vpc")
    assert (result.records, result.accepted, result.rejected) == (4, 3, 1)
    assert [(e.line, e.reason) for e in result.errors] == [(3, "expected 14 fields, got 16")]
    assert result.frame["action"].to_list() == ["accept", "reject", "reject"]
    assert result.frame["bytes"].to_list() == [840, 500, 500]
    # The same lines, one chunk per line: the field list carries over and each chunk is read narrow.
    batches = list(iter_batches(text, "vpc", batch_rows=1))
    assert totals(batches) == (4, 3, 1, 0)
