"""Issue 19 A2: Zeek and VPC records decide which side opened the connection (flows.direction,
flows.zeek_direction, flows.vpc), on the real files of ../shared/data and on small records per signal."""

from __future__ import annotations

import gzip
import io
import json

import polars as pl
import pytest
from flow_data import data_dir, text_of

from jobs.engines.flows import parse_file
from jobs.engines.flows.direction import EPHEMERAL_FIRST, REPLY_SKIP, UNKNOWN_SKIP
from jobs.engines.flows.zeek_direction import history_says
from tests.unit.detect.chain import strip_labels

LABELED = "labeled/stratosphere-008-zeek-mixed/conn.log.labeled"
ZEEK_FIELDS = ("ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "orig_bytes", "resp_bytes",
               "conn_state", "history", "orig_pkts", "resp_pkts")
VPC_HEADER = "version srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags"


def raw_zeek(text: str) -> pl.DataFrame:
    """The Zeek fields as logged, one row per data line (the parser keeps every Zeek record, in order)."""
    fields = next(line for line in text.splitlines() if line.startswith("#fields")).split("\t")[1:]
    return pl.read_csv(io.StringIO(text), separator="\t", comment_prefix="#", has_header=False, new_columns=fields,
                       infer_schema=False, quote_char=None)


def swapped(text: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(parsed frame, raw rows) of the records the parser swapped."""
    frame, raw = parse_file(text.encode()).frame, raw_zeek(text)
    assert frame.height == raw.height
    mask = frame["src_ip"] != raw["id.orig_h"]
    return frame.filter(mask), raw.filter(mask)


def rita_texts() -> list[str]:
    return [gzip.decompress(p.read_bytes()).decode() for p in sorted((data_dir() / "zeek/rita-missing-host").glob("*/*.gz"))]


def test_rita_swaps_only_two_way_records_whose_originator_sent_the_syn_ack() -> None:
    parts = [swapped(text) for text in rita_texts()]
    frame, raw = pl.concat([p[0] for p in parts]), pl.concat([p[1] for p in parts])
    # 51 of 105,918: the responder answered a SYN-ACK with a RST (REJ Hr: backscatter of a spoofed SYN), or
    # sent only ACK and RST (RSTRH Ar) while the originator's port is low and its own ephemeral
    assert frame.height == 51
    assert sorted(set(raw["history"].to_list())) == ["Ar", "HTr", "HWr", "Hr"]
    assert (raw["resp_pkts"].cast(pl.Int64) > 0).all()
    # the cited record: 137.74.3.172:7172 sent the SYN-ACK, so 64.225.56.201:40727 is the client
    cited = frame.filter((pl.col("dst_ip") == "137.74.3.172") & (pl.col("dst_port") == 7172))
    assert cited.height >= 1 and set(cited["src_port"].to_list()) >= {40727}
    # a swapped record's orig_bytes are what the (new) client sent: Zeek's resp_bytes
    assert frame["orig_bytes"].to_list() == raw["resp_bytes"].cast(pl.Int64, strict=False).to_list()


def test_no_rita_edge_from_the_syn_ack_sender_of_a_two_way_record() -> None:
    for text in rita_texts():
        frame, raw = parse_file(text.encode()).frame, raw_zeek(text)
        reply = raw["history"].map_elements(history_says, return_dtype=pl.Boolean).fill_null(False)
        two_way = raw["resp_pkts"].cast(pl.Int64, strict=False) > 0
        assert (frame.filter(reply & two_way)["src_ip"] == raw.filter(reply & two_way)["id.resp_h"]).all()
        # the SYN-ACK's sender is the destination, with its own port (never the client's ephemeral one)
        assert frame.filter(reply & two_way)["dst_port"].to_list() == raw.filter(reply & two_way)["id.orig_p"].cast(
            pl.Int32).to_list()


def test_labeled_mqtt_mid_session_records_become_the_pcs_outbound_flows() -> None:
    stripped, labels = strip_labels(text_of(LABELED).decode())
    frame, raw = parse_file(stripped.encode()).frame, raw_zeek(stripped)
    assert len(labels) == frame.height == raw.height
    assert swapped(stripped)[0].height == 29
    # Zeek logged 20 parts of the PC's MQTT session as 91.228.167.171:8883 → 147.32.81.167:55768 (OTH, history
    # Da/D, mid-session); those where the PC sent packets become the PC's flows to :8883
    eset = (raw["id.orig_h"] == "91.228.167.171") & (raw["id.orig_p"] == "8883")
    one_way = raw["resp_pkts"].cast(pl.Int64, strict=False) == 0
    mqtt = frame.filter(eset & ~one_way)
    assert mqtt.height == 16 and set(ends(mqtt)) == {("147.32.81.167", 55768, "91.228.167.171", 8883)}
    # one-way records (resp_pkts 0) keep Zeek's orientation, whatever the ports: the scanners stay the sources
    assert (frame.filter(one_way)["src_ip"] == raw.filter(one_way)["id.orig_h"]).all()
    assert frame.filter(eset & one_way).height == 4


def zeek_tsv(rows: list[dict[str, str]]) -> bytes:
    lines = ["#separator \\x09", "#unset_field\t-", "#path\tconn", "#fields\t" + "\t".join(ZEEK_FIELDS)]
    for i, row in enumerate(rows):
        values = {"ts": f"{1713484800 + i}.5", "id.orig_h": "10.0.0.1", "id.orig_p": "80", "id.resp_h": "10.0.0.2",
                  "id.resp_p": "40000", "proto": "tcp", "orig_bytes": "100", "resp_bytes": "7", "conn_state": "OTH",
                  "history": "-", "orig_pkts": "2", "resp_pkts": "1", **row}
        lines.append("\t".join(values[name] for name in ZEEK_FIELDS))
    return ("\n".join(lines) + "\n").encode()


def ends(frame: pl.DataFrame) -> list[tuple[str, int, str, int]]:
    return list(frame.select("src_ip", "src_port", "dst_ip", "dst_port").iter_rows())


@pytest.mark.parametrize(("history", "says"), [
    ("ShADadFf", False), ("S", False), ("sR", True), ("^hADadfF", False), ("Hr", True), ("SsHh", None),
    ("Dd", None), ("-", None),
])
def test_history_letters(history: str, says: bool | None) -> None:
    assert history_says(history) is says


def test_zeek_history_decides_before_the_ports() -> None:
    rows = [{"history": "Sh"}, {"history": "Hr", "id.orig_p": "40001", "id.resp_p": "81"}]
    frame = parse_file(zeek_tsv(rows), "zeek_tsv").frame
    # S from the originator keeps 10.0.0.1:80 → :40000 (a SYN from port 80 is still a request);
    # H (a SYN-ACK) from the originator swaps, although its port is the ephemeral one
    assert ends(frame) == [("10.0.0.1", 80, "10.0.0.2", 40000), ("10.0.0.2", 81, "10.0.0.1", 40001)]


def test_zeek_ephemeral_ports_swap_a_two_way_record_and_its_client_bytes() -> None:
    frame = parse_file(zeek_tsv([{"history": "Da"}]), "zeek_tsv").frame
    assert ends(frame) == [("10.0.0.2", 40000, "10.0.0.1", 80)]
    assert (frame["orig_bytes"].item(), frame["bytes"].item()) == (7, 107)


def test_zeek_one_way_records_keep_the_senders_orientation() -> None:
    rows = [{"history": "D", "resp_pkts": "0", "proto": "udp", "id.orig_p": "6881", "id.resp_p": "56605"},
            {"history": "H", "resp_pkts": "0", "id.orig_p": "8443", "id.resp_p": "28228"}]
    frame = parse_file(zeek_tsv(rows), "zeek_tsv").frame
    assert [row[1] for row in ends(frame)] == [6881, 8443]


def test_zeek_server_seen_in_the_batch_decides_between_ephemeral_ports() -> None:
    rows = [{"history": "ShAD", "id.orig_p": "41000", "id.resp_p": "50051", "id.resp_h": "10.0.0.9"},
            {"history": "Dd", "id.orig_h": "10.0.0.9", "id.orig_p": "50051", "id.resp_p": "42000"},
            {"history": "Dd", "id.orig_p": "43000", "id.resp_p": "44000"}]
    frame = parse_file(zeek_tsv(rows), "zeek_tsv").frame
    assert ends(frame) == [("10.0.0.1", 41000, "10.0.0.9", 50051), ("10.0.0.2", 42000, "10.0.0.9", 50051),
                           ("10.0.0.1", 43000, "10.0.0.2", 44000)]  # the last: nothing decides, Zeek's stands


def test_zeek_icmp_keeps_zeeks_own_orientation() -> None:
    rows = [{"proto": "icmp", "id.orig_p": "0", "id.resp_p": "40000"}]
    assert ends(parse_file(zeek_tsv(rows), "zeek_tsv").frame) == [("10.0.0.1", 0, "10.0.0.2", 40000)]


def test_zeek_json_swaps_the_same_way() -> None:
    record = {"ts": 1713484800.5, "id.orig_h": "10.0.0.1", "id.orig_p": 443, "id.resp_h": "10.0.0.2",
              "id.resp_p": 50000, "proto": "tcp", "conn_state": "OTH", "history": "Da", "orig_bytes": 900,
              "resp_bytes": 40, "resp_pkts": 1, "_path": "conn"}
    frame = parse_file(json.dumps(record).encode() + b"\n", "zeek_json").frame
    assert ends(frame) == [("10.0.0.2", 50000, "10.0.0.1", 443)] and frame["orig_bytes"].item() == 40


def vpc(records: list[str]) -> bytes:
    return ("\n".join([VPC_HEADER, *records]) + "\n").encode()


def test_vpc_loki_reply_halves_are_skipped() -> None:
    result = parse_file(text_of("vpcflow/grafana-loki/vpcflowlog.log.gz"))
    # 3.239.232.29:443 → :60220 answers the request beside it (server seen in the batch); 10.26.0.9:5007 →
    # :57879 is a reply by its ports
    assert result.skip_reasons == {REPLY_SKIP: 2}
    assert ends(result.frame) == [("10.26.1.153", 60220, "3.239.232.29", 443)]


@pytest.mark.parametrize(("path", "reasons"), [
    ("vpcflow/elastic-beats/accept-reject-traffic.log", {UNKNOWN_SKIP: 2}),  # ICMP 0 → 0 both ways
    ("vpcflow/elastic-integrations/test-extra-samples.log", {UNKNOWN_SKIP: 2, "vpc NODATA": 1, "vpc SKIPDATA": 1}),
    ("vpcflow/elastic-integrations/test-v5-all-fields.log", {UNKNOWN_SKIP: 1}),  # UDP 50041 → 33004
    ("vpcflow/elastic-integrations/test-tcp-flag-sequence.log", {"vpc NODATA": 1, "vpc SKIPDATA": 1}),
])
def test_vpc_sample_skips_per_reason_and_no_edge_to_an_ephemeral_port(path: str, reasons: dict[str, int]) -> None:
    result = parse_file(text_of(path))
    assert result.skip_reasons == reasons
    assert result.frame.filter(pl.col("dst_port") >= EPHEMERAL_FIRST).height == 0


def test_vpc_tcp_flags_decide_before_the_ports() -> None:
    records = [
        "3 10.0.0.2 10.0.0.1 22 40000 6 3 180 1713484800 1713484860 ACCEPT OK 18",  # SYN-ACK: reply
        "3 10.0.0.2 10.0.0.1 22 40001 6 3 180 1713484800 1713484860 ACCEPT OK 19",  # SYN-ACK + FIN: reply
        "3 10.0.0.1 10.0.0.2 40002 22 6 3 180 1713484800 1713484860 ACCEPT OK 3",  # SYN + FIN: request
        "3 10.0.0.3 10.0.0.4 53 40003 6 1 40 1713484800 1713484860 ACCEPT OK 2",  # SYN from port 53: request
    ]
    result = parse_file(vpc(records), "vpc")
    assert result.skip_reasons == {REPLY_SKIP: 2}
    assert ends(result.frame) == [("10.0.0.1", 40002, "10.0.0.2", 22), ("10.0.0.3", 53, "10.0.0.4", 40003)]


def test_vpc_without_flags_the_ports_decide_else_unknown() -> None:
    records = [
        "3 10.0.0.1 10.0.0.2 20641 22 6 3 180 1713484800 1713484860 ACCEPT OK -",  # well-known 22 serves
        "3 10.0.0.2 10.0.0.1 22 20641 6 3 180 1713484800 1713484860 ACCEPT OK 0",  # its reply (server in batch)
        "3 10.0.0.5 10.0.0.6 443 50000 17 1 40 1713484800 1713484860 ACCEPT OK 0",  # ephemeral: reply
        "3 10.0.0.5 10.0.0.6 40000 50000 17 1 40 1713484800 1713484860 ACCEPT OK 0",  # both ephemeral
        "3 10.0.0.5 10.0.0.6 4 443 6 1 40 1713484800 1713484860 ACCEPT OK 0",  # both well-known
    ]
    result = parse_file(vpc(records), "vpc")
    assert result.skip_reasons == {REPLY_SKIP: 2, UNKNOWN_SKIP: 2}
    assert ends(result.frame) == [("10.0.0.1", 20641, "10.0.0.2", 22)]
