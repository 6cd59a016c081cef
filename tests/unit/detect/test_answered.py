"""The answered flag from Zeek, VPC and Hubble records."""

from __future__ import annotations

import polars as pl

from jobs.engines.detect.answered import (
    canonical_answered,
    hubble_answered,
    hubble_shows_answer,
    vpc_answered,
    zeek_answered,
)


def zeek(rows: list[tuple[str, str | None, int | None]]) -> list[bool]:
    frame = pl.DataFrame(rows, schema={"conn_state": pl.Utf8, "history": pl.Utf8, "resp_pkts": pl.Int64},
                         orient="row")
    return frame.select(zeek_answered(pl.col("conn_state"), pl.col("history"), pl.col("resp_pkts")))[
        "answered"].to_list()


def test_zeek_states_without_a_responder_are_unanswered() -> None:
    states = [("S0", "S", 0), ("SH", "Sf", 0), ("RSTOS0", "SR", 0), ("REJ", "Sr", 1)]
    assert zeek(states) == [False, False, False, False]


def test_zeek_states_with_a_handshake_or_a_responder_are_answered() -> None:
    states = [("SF", "ShADadfF", 6), ("S1", "ShA", 1), ("RSTO", "ShAR", 2), ("RSTR", "ShAr", 2), ("SHR", "hf", 2)]
    assert zeek(states) == [True] * 5


def test_oth_and_unset_states_follow_the_responders_packets_then_its_history() -> None:
    rows = [("OTH", "-", 0), ("OTH", "-", 3), ("OTH", "Dd", None), ("OTH", "D", None), ("-", None, None),
            (None, "-", None)]
    # unknown stays answered: only what was seen to go unanswered is called so
    assert zeek(rows) == [False, True, True, False, True, True]


def test_zeek_without_history_or_packets_uses_the_state_alone() -> None:
    frame = pl.DataFrame({"conn_state": ["S0", "SF", "OTH"]})
    assert frame.select(zeek_answered(pl.col("conn_state")))["answered"].to_list() == [False, True, True]


def test_vpc_reject_and_syn_only_records_are_unanswered() -> None:
    frame = pl.DataFrame({"action": ["ACCEPT", "REJECT", "ACCEPT", "ACCEPT", None], "flags": [19, 2, 2, None, 2]})
    plain = frame.select(vpc_answered(pl.col("action")))["answered"].to_list()
    flagged = frame.select(vpc_answered(pl.col("action"), pl.col("flags")))["answered"].to_list()
    assert plain == [True, False, True, True, True]
    assert flagged == [True, False, False, True, False]


def test_hubble_a_syn_is_answered_only_when_its_connection_shows_a_reply() -> None:
    frame = pl.DataFrame({
        # a SYN and its SYN-ACK reply (the reply's ends reversed); a lone SYN; a dropped packet
        "src_ip": ["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.3"],
        "src_port": [40000, 8080, 40001, 40002],
        "dst_ip": ["10.0.0.2", "10.0.0.1", "10.0.0.9", "10.0.0.2"],
        "dst_port": [8080, 40000, 8080, 8080],
        "protocol": ["tcp"] * 4,
        "verdict": ["FORWARDED", "FORWARDED", "FORWARDED", "DROPPED"],
        "is_reply": [False, True, False, False],
        "syn": [True, True, True, False],
        "ack": [False, True, False, True],
    })
    shows = frame.with_columns(hubble_shows_answer(pl.col("verdict"), pl.col("is_reply"), pl.col("syn"), pl.col("ack")))
    assert hubble_answered(shows).to_list() == [True, True, False, False]


def test_a_canonical_frame_uses_its_own_flag_or_else_its_action() -> None:
    with_flag = pl.DataFrame({"action": ["accept", "reject", "accept"], "answered": [False, None, None]})
    without = pl.DataFrame({"action": ["accept", "reject", None]})
    # an empty flag falls back to the action: a rejected row the file did not mark is still unanswered
    assert with_flag.select(canonical_answered(with_flag))["answered"].to_list() == [False, False, True]
    assert without.select(canonical_answered(without))["answered"].to_list() == [True, False, True]
