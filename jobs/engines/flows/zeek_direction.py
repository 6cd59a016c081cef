"""Which side of a Zeek conn record opened the connection (issue 19 A2).

Zeek calls originator whoever sent the first packet it saw (flipping the record itself, history '^',
when its own heuristics say otherwise). When it missed the handshake that can be the server: RITA's
capture has `137.74.3.172:7172 → 64.225.56.201:40727`, history `Hr` (the originator sent a SYN-ACK),
and the labeled capture `91.228.167.171:8883 → 147.32.81.167:55768`, state OTH, history `Da` (the
middle of the PC's MQTT session to 91.228.167.171:8883, which other records show opened by the PC).
The signals, first that decides wins (history letters: uppercase the originator's, lowercase the
responder's):

1. History: S (a SYN without ACK) from the originator only: it opened the connection, kept. s from
   the responder only: the responder opened it, swapped. Else h (SYN-ACK) from the responder only:
   it answered, kept; H from the originator only: swapped. ICMP records are kept: Zeek orients them by
   the message type itself (the echo request's sender is the originator). conn_state adds nothing
   here: SHR, RSTRH and OTH only say that no SYN was seen, which the history already shows.
2. and 3. The ports (`direction`): a server seen in the same batch, then ephemeral ports.
4. Otherwise Zeek's orientation stands (a UDP 5060 → 5060 packet, a probe of a high port): the
   first packet's sender is a signal too, so a Zeek record is never "direction unknown".

Only a record whose responder sent packets is swapped. In a one-way record (resp_pkts 0) the
originator is the only host seen sending: a probe from source port 6881 or 53 to a high port, a
SYN-ACK backscattered from 8443 to an address that never sent the SYN (the labeled capture's
scanners do both) stays the sender's; swapping it would name as client a host that sent nothing.

A swapped record exchanges addresses and ports, and orig_bytes becomes Zeek's resp_bytes (what the
client sent). bytes, packets, action and answered describe the whole connection and stay.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from jobs.engines.flows.direction import DIRECTION, port_decisions

__all__ = ["DIRECTION", "ONE_WAY", "RESP_BYTES", "declared_reversed", "history_says", "oriented"]

RESP_BYTES: Final = "_resp_bytes"  # working column: Zeek's resp_bytes, the client's bytes of a swapped record
ONE_WAY: Final = "_one_way"  # working column: resp_pkts is 0 (null when unset)


def history_says(history: str) -> bool | None:
    """Signal 1 for one history text: True the originator is the server's side, False the client's, None open."""
    for opener, answer in (("S", "s"), ("h", "H")):
        if opener in history and answer not in history:
            return False
        if answer in history and opener not in history:
            return True
    return None


def declared_reversed(rows: pl.DataFrame, history: str | None) -> pl.Expr | None:
    """`history_says` over the text column `history` of `rows` (None: the log has none), as a Boolean
    expression. Decided once per distinct history (a few hundred per log), then one membership test per row.

    None when every record's history keeps it (no swap, nothing left to the ports): the usual case of a
    sensor that sees both sides of every handshake, which then costs nothing per record."""
    if history is None or rows.height == 0:
        return pl.lit(None, pl.Boolean)
    present = rows[history].unique().to_list()
    verdicts = {text: history_says(text) if text is not None else None for text in present}
    if all(verdict is False for verdict in verdicts.values()):
        return None
    kept = [text for text, verdict in verdicts.items() if verdict is False]
    swapped = [text for text, verdict in verdicts.items() if verdict]
    column = pl.col(history)
    return pl.when(column.is_in(kept)).then(pl.lit(False)).when(column.is_in(swapped)).then(pl.lit(True))


def oriented(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` (canonical columns, `_skip`, `_bad`, DIRECTION from signal 1, RESP_BYTES, ONE_WAY) with every
    record that names the server as originator swapped: history decides first, the ports what it left open."""
    if RESP_BYTES not in frame.columns:  # history kept every record (`declared_reversed`)
        return frame
    two_way = ~pl.col(ONE_WAY).fill_null(False)
    live = pl.col("_skip").is_null() & pl.col("_bad").is_null()
    flags = frame.select((pl.col(DIRECTION).fill_null(False) & two_way).alias("swap"),
                         (pl.col(DIRECTION).is_null() & two_way & live).alias("open"))
    swap, open_ = flags["swap"], flags["open"]
    if open_.any():
        swap = swap.scatter(open_.arg_true(), port_decisions(frame, open_).fill_null(False))
    if not swap.any():
        return frame
    turn = pl.lit(swap)
    pairs = (("src_ip", "dst_ip"), ("src_port", "dst_port"))
    return frame.with_columns(
        *(pl.when(turn).then(pl.col(b)).otherwise(pl.col(a)).alias(a) for a, b in pairs),
        *(pl.when(turn).then(pl.col(a)).otherwise(pl.col(b)).alias(b) for a, b in pairs),
        pl.when(turn).then(pl.col(RESP_BYTES)).otherwise(pl.col("orig_bytes")).alias("orig_bytes"),
    )
