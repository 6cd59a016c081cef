"""Every parser says whether a flow was answered (null: the format cannot tell) and what the originator sent."""

from __future__ import annotations

import json

from flow_data import text_of

from jobs.engines.flows import CANONICAL_COLUMNS, parse_file

ZEEK_FIELDS = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "duration", "orig_bytes",
               "resp_bytes", "conn_state", "orig_pkts", "resp_pkts", "history")
# (conn_state, history, orig_bytes, resp_pkts) and what the flow must say
ZEEK_CASES = [
    (("S0", "S", "0", "0"), False),
    (("SH", "Sf", "0", "0"), False),
    (("RSTOS0", "SR", "0", "0"), False),
    (("REJ", "Sr", "0", "1"), False),
    (("OTH", "-", "40", "0"), False),
    (("OTH", "-", "40", "3"), True),
    (("OTH", "Dd", "-", "-"), True),
    (("SF", "ShADadFf", "1790", "24"), True),
]


def zeek_tsv(rows: list[tuple[str, str, str, str]], fields: tuple[str, ...] = ZEEK_FIELDS) -> bytes:
    lines = ["#separator \\x09", "#unset_field\t-", "#path\tconn", "#fields\t" + "\t".join(fields)]
    for i, (state, history, orig_bytes, resp_pkts) in enumerate(rows):
        values = {"ts": f"{1713484800 + i}.5", "uid": f"C{i}", "id.orig_h": "10.0.0.1", "id.orig_p": str(40000 + i),
                  "id.resp_h": "10.0.0.2", "id.resp_p": "22", "proto": "tcp", "duration": "0.5",
                  "orig_bytes": orig_bytes, "resp_bytes": "0", "conn_state": state, "history": history,
                  "orig_pkts": "1", "resp_pkts": resp_pkts}
        lines.append("\t".join(values[name] for name in fields))
    return ("\n".join(lines) + "\n").encode()


def zeek_json(rows: list[tuple[str, str, str, str]]) -> bytes:
    records = []
    for i, (state, history, orig_bytes, resp_pkts) in enumerate(rows):
        record: dict[str, object] = {"ts": 1713484800.5 + i, "id.orig_h": "10.0.0.1", "id.orig_p": 40000 + i,
                                     "id.resp_h": "10.0.0.2", "id.resp_p": 22, "proto": "tcp", "conn_state": state}
        # Zeek JSON omits unset fields
        extra = {"history": history, "orig_bytes": orig_bytes, "resp_pkts": resp_pkts}
        record |= {key: (value if key == "history" else int(value)) for key, value in extra.items() if value != "-"}
        records.append(json.dumps(record))
    return ("\n".join(records) + "\n").encode()


def test_zeek_tsv_answered_per_state() -> None:
    frame = parse_file(zeek_tsv([row for row, _ in ZEEK_CASES]), "zeek_tsv").frame
    assert frame.columns == list(CANONICAL_COLUMNS)
    assert frame["answered"].to_list() == [answered for _, answered in ZEEK_CASES]
    assert frame["orig_bytes"].to_list() == [0, 0, 0, 0, 40, 40, None, 1790]
    # the action keeps its old meaning: only REJ is a reject
    assert frame["action"].to_list() == ["accept"] * 3 + ["reject"] + ["accept"] * 4


def test_zeek_json_answered_per_state() -> None:
    frame = parse_file(zeek_json([row for row, _ in ZEEK_CASES]), "zeek_json").frame
    assert frame["answered"].to_list() == [answered for _, answered in ZEEK_CASES]
    assert frame["orig_bytes"].to_list() == [0, 0, 0, 0, 40, 40, None, 1790]


def test_zeek_states_that_decide_alone_ignore_history() -> None:
    # every state present decides by itself: the fast path, whatever the history says
    rows = [("SF", "S", "10", "0"), ("S0", "ShADadFf", "0", "5"), ("S1", "-", "1", "1")]
    assert parse_file(zeek_tsv(rows), "zeek_tsv").frame["answered"].to_list() == [True, False, True]


def test_zeek_log_without_history_and_packets_uses_the_state() -> None:
    fields = tuple(name for name in ZEEK_FIELDS if name not in ("history", "resp_pkts", "orig_bytes"))
    rows = [("S0", "", "", ""), ("OTH", "", "", ""), ("SF", "", "", "")]
    frame = parse_file(zeek_tsv(rows, fields), "zeek_tsv").frame
    # OTH without any evidence stays answered: only what was seen to go unanswered is called so
    assert frame["answered"].to_list() == [False, True, True]
    assert frame["orig_bytes"].to_list() == [None, None, None]


def vpc_lines(header: str, records: list[str]) -> bytes:
    return ("\n".join([header, *records]) + "\n").encode()


def test_vpc_reject_is_unanswered_and_orig_bytes_are_the_records_bytes() -> None:
    data = vpc_lines(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
        "log-status",
        ["2 123 eni-1 10.0.0.1 10.0.0.2 40000 22 6 3 180 1713484800 1713484860 ACCEPT OK",
         "2 123 eni-1 10.0.0.9 10.0.0.2 40001 23 6 1 40 1713484800 1713484860 REJECT OK"],
    )
    frame = parse_file(data, "vpc").frame
    assert frame.select("action", "answered", "orig_bytes").rows() == [("accept", True, 180), ("reject", False, 40)]


def test_vpc_syn_only_flags_are_unanswered() -> None:
    data = vpc_lines(
        "version srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags",
        ["3 10.0.0.1 10.0.0.2 40000 22 6 3 180 1713484800 1713484860 ACCEPT OK 3",
         "3 10.0.0.9 10.0.0.2 40001 23 6 1 40 1713484800 1713484860 ACCEPT OK 2",
         "3 10.0.0.9 10.0.0.2 40002 53 17 1 40 1713484800 1713484860 ACCEPT OK -"],
    )
    assert parse_file(data, "vpc").frame["answered"].to_list() == [True, False, True]


def hubble_request(verdict: str, flags: dict[str, bool]) -> str:
    record = json.loads(text_of("hubble/basic-sample-10-flows.json").split(b"\n")[1])
    record["flow"]["verdict"] = verdict
    record["flow"]["is_reply"] = False
    record["flow"]["l4"] = {"TCP": {"source_port": 40000, "destination_port": 9080, "flags": flags}}
    return json.dumps(record)


def test_hubble_dropped_is_unanswered_and_a_forwarded_syn_unknown() -> None:
    data = "\n".join([hubble_request("DROPPED", {"SYN": True}), hubble_request("FORWARDED", {"SYN": True})]) + "\n"
    frame = parse_file(data.encode(), "hubble").frame
    # the scanner reads no TCP flags: a lone SYN cannot be told from a mid-connection packet
    assert frame.select("action", "answered").rows() == [("reject", False), ("accept", None)]
    assert frame["orig_bytes"].to_list() == [None, None]


CSV_HEAD = "ts_start,src_ip,dst_ip,dst_port,protocol,bytes"


def test_canonical_csv_without_the_new_columns_leaves_them_unknown() -> None:
    rows = ["2024-04-19T00:00:00Z,10.0.0.1,10.0.0.2,22,tcp,100,accept", "2024-04-19T00:00:01Z,10.0.0.9,10.0.0.2,23,tcp,40,reject"]
    result = parse_file("\n".join([f"{CSV_HEAD},action", *rows]).encode(), "csv")
    assert result.frame.columns == list(CANONICAL_COLUMNS)
    # missing means unknown, a reject too: the action column still says it was refused
    assert result.frame.select("action", "answered", "orig_bytes").rows() == [
        ("accept", None, None), ("reject", None, None)]


def test_canonical_csv_reads_answered_and_orig_bytes() -> None:
    rows = ["2024-04-19T00:00:00Z,10.0.0.1,10.0.0.2,22,tcp,100,false,40",
            "2024-04-19T00:00:01Z,10.0.0.1,10.0.0.2,22,tcp,900,True,300",
            "2024-04-19T00:00:02Z,10.0.0.1,10.0.0.2,22,tcp,50,,",
            "2024-04-19T00:00:03Z,10.0.0.1,10.0.0.2,22,tcp,50,maybe,1",
            "2024-04-19T00:00:04Z,10.0.0.1,10.0.0.2,22,tcp,50,1,-5"]
    data = "\n".join([f"{CSV_HEAD},answered,orig_bytes", *rows]).encode() + b"\n"
    result = parse_file(data, "csv")
    assert result.frame.select("answered", "orig_bytes").rows() == [(False, 40), (True, 300), (None, None)]
    assert [(bad.line, bad.reason) for bad in result.errors] == [
        (5, "invalid answered 'maybe'"), (6, "invalid orig_bytes '-5'")]


def test_canonical_csv_round_trips_the_new_columns() -> None:
    frame = parse_file(zeek_tsv([row for row, _ in ZEEK_CASES]), "zeek_tsv").frame
    again = parse_file(frame.write_csv().encode(), "csv").frame
    assert again.select("answered", "orig_bytes").equals(frame.select("answered", "orig_bytes"))


def test_canonical_json_lines_read_answered_and_orig_bytes() -> None:
    base = {"ts_start": "2024-04-19T00:00:00Z", "src_ip": "10.0.0.1", "dst_ip": "10.0.0.2", "protocol": "tcp"}
    lines = [base | {"answered": False, "orig_bytes": 40}, base | {"answered": True}, base]
    data = "\n".join(json.dumps(line) for line in lines).encode() + b"\n"
    frame = parse_file(data, "jsonl").frame
    assert frame.select("answered", "orig_bytes").rows() == [(False, 40), (True, None), (None, None)]
