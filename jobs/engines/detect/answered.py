"""Did the responder answer? One `answered` flag per flow, from what each source format records.

A connection is unanswered when nobody took part at the other end: a SYN with no reply, a reset
refusal, a flow a firewall rejected or dropped. Scans are mostly unanswered; beacons, logins and real
sessions are answered (except a beacon whose server is down, which still counts as a beacon).

Written as polars expressions over the parsers' own columns, so a parser can add the flag in the same
select that builds its canonical frame. "Unknown" is answered: only what was seen to go unanswered is
called so, or a format without the evidence would turn every flow into a scan.
"""

from __future__ import annotations

from typing import Final

import polars as pl

# S0: SYN, no reply. SH: SYN then FIN, no SYN-ACK. RSTOS0: SYN then the originator's RST, no SYN-ACK.
# REJ: the responder refused with a RST (a closed port answers, but nothing listens: unanswered for us).
ZEEK_UNANSWERED: Final = ("S0", "SH", "RSTOS0", "REJ")
# Handshake seen (S1, S2, S3, SF, RSTO, RSTR) or the responder's SYN-ACK seen without the SYN (SHR, RSTRH:
# the sensor missed the originator's side; the responder did answer).
ZEEK_ANSWERED: Final = ("S1", "S2", "S3", "SF", "RSTO", "RSTR", "SHR", "RSTRH")
# Zeek history letters in lowercase are the responder's: SYN-ACK, ACK, data, FIN (not r, a refusal)
_RESPONDER_LIFE: Final = r"[hadf]"
_VPC_SYN_ONLY: Final = 2
HUBBLE_REFUSED: Final = ("DROPPED", "ERROR", "DENIED")


def zeek_answered(conn_state: pl.Expr, history: pl.Expr | None = None, resp_pkts: pl.Expr | None = None) -> pl.Expr:
    """From Zeek's conn_state, refined by history and resp_pkts where the state says nothing.

    OTH (no SYN seen: mid-stream, ICMP, most UDP without state) and unset states are answered when the
    responder sent packets (resp_pkts > 0) or its letters appear in the history; UDP and ICMP use the same
    states as TCP in Zeek (S0 = no reply, SF = reply)."""
    state = conn_state.str.strip_chars()
    responder = pl.lit(None, pl.Boolean)
    if resp_pkts is not None:
        responder = resp_pkts.cast(pl.Int64, strict=False) > 0
    if history is not None:
        # "-" is Zeek's unset marker: no history, no evidence either way
        shows_life = pl.when(history.str.strip_chars().is_in(["-", ""])).then(None).otherwise(
            history.str.contains(_RESPONDER_LIFE))
        responder = pl.coalesce(responder, shows_life) if resp_pkts is not None else shows_life
    undecided = responder.fill_null(True)
    return (pl.when(state.is_in(ZEEK_UNANSWERED)).then(pl.lit(False))
            .when(state.is_in(ZEEK_ANSWERED)).then(pl.lit(True))
            .otherwise(undecided)).alias("answered")


def vpc_answered(action: pl.Expr, tcp_flags: pl.Expr | None = None) -> pl.Expr:
    """From a VPC flow log's action (REJECT is unanswered) and, in v3+ logs, its tcp-flags: a record whose
    flags are SYN alone (2) saw the opening packet and never the originator's ACK, so no handshake."""
    rejected = action.str.to_uppercase() == "REJECT"
    if tcp_flags is not None:
        rejected = rejected | (tcp_flags.cast(pl.Int64, strict=False) == _VPC_SYN_ONLY).fill_null(False)
    return (~rejected.fill_null(False)).alias("answered")


def hubble_shows_answer(verdict: pl.Expr, is_reply: pl.Expr, syn: pl.Expr, ack: pl.Expr) -> pl.Expr:
    """Per Hubble event: a forwarded reply, or an originator packet that carries an ACK (the handshake went
    through). A lone SYN shows nothing yet; a DROPPED/ERROR/DENIED event never shows an answer."""
    refused = verdict.str.to_uppercase().is_in(HUBBLE_REFUSED).fill_null(False)
    opening = syn.fill_null(False) & ~ack.fill_null(False)
    answer = is_reply.fill_null(False) | ~opening
    return (~refused & answer).alias("shows_answer")


def hubble_answered(frame: pl.DataFrame, *, shows_answer: str = "shows_answer") -> pl.Series:
    """Per Hubble event, whether its connection (either direction of the 5-tuple) was ever answered.

    Hubble reports packets, not connections: a SYN event is answered when a reply event of the same
    connection exists. `frame` needs src_ip, src_port, dst_ip, dst_port, protocol and `shows_answer`."""
    near = pl.concat_str(pl.col("src_ip"), pl.lit("|"), pl.col("src_port").cast(pl.Utf8).fill_null(""))
    far = pl.concat_str(pl.col("dst_ip"), pl.lit("|"), pl.col("dst_port").cast(pl.Utf8).fill_null(""))
    # the same key for both directions of a connection
    keyed = frame.with_columns(pl.min_horizontal(near, far).alias("_a"), pl.max_horizontal(near, far).alias("_b"))
    answered = keyed.select(pl.col(shows_answer).any().over("_a", "_b", "protocol"))
    return answered.to_series().alias("answered")


def canonical_answered(frame: pl.DataFrame) -> pl.Expr:
    """The flag for a canonical frame: its own `answered` where the parser knew it, else not rejected (the
    canonical action; every parser now gives the column, but a CSV/JSONL row may leave it empty)."""
    by_action = (pl.col("action") != "reject").fill_null(True)
    if "answered" in frame.columns:
        return pl.col("answered").fill_null(by_action).alias("answered")
    return by_action.alias("answered")
