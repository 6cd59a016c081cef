"""Which side of a flow record is the server, from the ports, for every format (issue 19 A2).

Each parser first decides what its own record says (Hubble: TCP flags, `is_reply`, ICMP echo type;
Zeek: `history`; VPC: `tcp-flags`) into the working column DIRECTION: True when the record's source is
the server's side (a reply, or a Zeek record that names the server as originator), False when the
source is the client's, null when the record says nothing. Then the ports decide what is left, in
this order, first that decides wins:

1. A server seen in the same batch: an address, port and protocol that is the destination of a
   decided request or the source of a decided reply is a server. A record from such a server to a
   peer that is not one is the server's side; the other way round, the client's.
2. Ephemeral ports: exactly one side's port in 32768–65535 (Linux 32768–60999, IANA 49152–65535)
   and the other's below: the lower side is the server.
3. Only where the parser asks (`well_known`, VPC records): exactly one side's port in the well-known
   range 0–1023 (services, never a client's ephemeral port on any current system): that side serves.
   It decides records like an SSH login from port 20641 (older BSD/Windows and many NATs hand out
   source ports below 32768).

What a parser does with the outcome is its own: Hubble and VPC skip the server's side ("reply
direction") and the undecided ("direction unknown"), so no record becomes a request to an ephemeral
port by accident; Zeek swaps a record that names the server as originator (`zeek_direction`).
"""

from __future__ import annotations

from typing import Final

import polars as pl

EPHEMERAL_FIRST: Final = 32768
WELL_KNOWN_LAST: Final = 1023
REPLY_SKIP: Final = "reply direction"
UNKNOWN_SKIP: Final = "direction unknown"
DIRECTION: Final = "_reply"  # working column: True the source is the server's side, False the client's, null open


def with_direction_skips(frame: pl.DataFrame, *, well_known: bool = False) -> pl.DataFrame:
    """Decide the records of `frame` that the parser's own signals left open, then skip those that turn
    out replies and the unknowns. Replies the parser decided itself are expected to be skipped already
    (in the parser's own select, which is cheaper).

    `frame` holds the canonical address, port and protocol columns, `_skip`, `_bad` and DIRECTION.
    """
    if frame[DIRECTION].null_count() == 0:
        return frame
    open_ = frame.select((pl.col("_skip").is_null() & pl.col(DIRECTION).is_null()).alias("open")).to_series()
    if not open_.any():
        return frame
    decided = port_decisions(frame, open_, well_known=well_known)
    if open_.all():  # a log without flags (VPC v2): every record is asked
        reply, unknown = decided.fill_null(False), decided.is_null()
    else:
        rows, none = open_.arg_true(), pl.Series("none", [], pl.Boolean).extend_constant(False, frame.height)
        reply, unknown = none.scatter(rows, decided.fill_null(False)), none.clone().scatter(rows, decided.is_null())
    if not (reply.any() or unknown.any()):
        return frame
    skip = pl.when(reply).then(pl.lit(REPLY_SKIP)).when(unknown).then(pl.lit(UNKNOWN_SKIP)).otherwise(pl.col("_skip"))
    return frame.with_columns(skip.alias("_skip"))


def port_decisions(frame: pl.DataFrame, rows: pl.Series, *, well_known: bool = False) -> pl.Series:
    """The port signals of the module docstring for the records of `frame` where the Boolean mask `rows` is
    true, in order: True the source is the server's side, False the client's, null undecided.

    Servers are collected from the live records (not skipped, not bad) whose DIRECTION is set; only the
    records asked about are looked up (usually a few of the batch)."""
    by_port = pl.lit(None, pl.Boolean)
    decided = pl.col(DIRECTION).is_not_null() & pl.col("_skip").is_null() & pl.col("_bad").is_null()
    if frame[DIRECTION].null_count() < frame.height:
        server = pl.when(pl.col(DIRECTION)).then(_endpoint("src")).otherwise(_endpoint("dst"))
        servers = frame.select(pl.when(decided).then(server).unique().alias("server"))["server"].drop_nulls()
        if servers.len():
            known = pl.lit(servers.implode())
            by_port = _one_side(_endpoint("src").is_in(known), _endpoint("dst").is_in(known))
    asked = frame if rows.all() else frame.filter(rows)
    return asked.select(_port_sides(by_port, well_known=well_known).alias("decided")).to_series()


def _port_sides(by_port: pl.Expr, *, well_known: bool) -> pl.Expr:
    by_port = _lower_side(by_port, EPHEMERAL_FIRST)
    return _lower_side(by_port, WELL_KNOWN_LAST + 1) if well_known else by_port


def _lower_side(decided: pl.Expr, first_high: int) -> pl.Expr:
    """`decided`, else: exactly one port below `first_high` is the server's."""
    return pl.coalesce(decided, _one_side(pl.col("src_port") < first_high, pl.col("dst_port") < first_high))


def _one_side(src_serves: pl.Expr, dst_serves: pl.Expr) -> pl.Expr:
    """True when only the source looks like the server, False when only the destination, else null."""
    return pl.when(src_serves & ~dst_serves).then(pl.lit(True)).when(dst_serves & ~src_serves).then(pl.lit(False))


def _endpoint(side: str) -> pl.Expr:
    return pl.struct(pl.col(f"{side}_ip").alias("ip"), pl.col(f"{side}_port").alias("port"), "protocol")
