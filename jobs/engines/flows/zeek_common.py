"""What Zeek TSV and Zeek JSON share: which fields we use, and how they become canonical columns.

Decisions (the same for both encodings):
- bytes = orig_ip_bytes + resp_ip_bytes (IP-level, like VPC Flow Logs) when either is set, else
  orig_bytes + resp_bytes (payload); unset counts are 0. packets = orig_pkts + resp_pkts.
- Zeek records no firewall action: conn_state REJ (the responder answered with a reset) becomes
  "reject", every other state "accept".
- `proto` icmp between IPv6 addresses is "icmp6"; "unknown_transport" uses `ip_proto` when the
  log has it (Zeek ≥ 7). ICMP carries type/code in the port fields, as Zeek writes them.
- ts_end = ts + duration when duration is set.
- answered comes from conn_state, refined by history and resp_pkts (`detect.answered.zeek_answered`);
  orig_bytes is Zeek's orig_bytes (payload), null when unset.
- Direction (issue 19 A2, `zeek_direction`): Zeek's originator is whoever sent the first packet Zeek
  saw, which names the server when Zeek missed the handshake. A record the evidence says is named
  that way is swapped (addresses, ports, orig_bytes from resp_bytes), never skipped: a Zeek record is
  the whole connection, there is no request record beside it to keep instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from jobs.engines.detect.answered import ZEEK_ANSWERED, ZEEK_UNANSWERED, zeek_answered
from jobs.engines.flows.columns import Check, protocol_from_number, reason
from jobs.engines.flows.zeek_direction import DIRECTION, ONE_WAY, RESP_BYTES

REQUIRED_FIELDS: Final = ("ts", "id.orig_h", "id.resp_h", "proto")
COUNT_FIELDS: Final = (
    "orig_bytes", "resp_bytes", "orig_ip_bytes", "resp_ip_bytes", "orig_pkts", "resp_pkts",
)
USED_FIELDS: Final = (
    *REQUIRED_FIELDS, "id.orig_p", "id.resp_p", "duration", *COUNT_FIELDS, "conn_state", "history", "ip_proto",
)
# Longest plausible connection; longer durations are corrupt values.
MAX_DURATION_S: Final = 10 * 365 * 86_400


@dataclass(frozen=True, slots=True)
class ZeekColumns:
    """Typed expressions for the Zeek fields we use (null literals for absent fields)."""

    ts: pl.Expr  # Datetime(us, UTC), null when invalid
    orig_h: pl.Expr
    resp_h: pl.Expr
    orig_p: pl.Expr  # Int32
    resp_p: pl.Expr
    proto: pl.Expr  # lowercase (callers lowercase once per distinct value: `columns.lowercase`)
    duration: pl.Expr  # Float64 seconds
    counts: dict[str, pl.Expr]  # Int64 per COUNT_FIELDS name
    conn_state: pl.Expr
    answered: pl.Expr  # Boolean (`answered_column`)
    ip_proto: pl.Expr | None  # Int64; None when the log has no ip_proto field
    # Boolean: what history says of the direction (`zeek_direction.declared_reversed`); None: every record kept
    reversed_: pl.Expr | None


def zeek_checks(cols: ZeekColumns, raw_ts: pl.Expr) -> list[Check]:
    """Record-level checks common to both encodings, in reporting order."""
    duration_ok = cols.duration.is_null() | cols.duration.is_between(0, MAX_DURATION_S)
    return [
        (cols.ts.is_null(), reason("invalid ts", raw_ts.cast(pl.Utf8))),
        (cols.orig_h.is_null(), reason("missing id.orig_h")),
        (cols.resp_h.is_null(), reason("missing id.resp_h")),
        (cols.proto.is_null(), reason("missing proto")),
        (~duration_ok, reason("invalid duration", cols.duration.cast(pl.Utf8))),
    ]


def zeek_canonical(cols: ZeekColumns) -> list[pl.Expr]:
    """Canonical columns from typed Zeek fields."""
    c = cols.counts
    ip_bytes_set = c["orig_ip_bytes"].is_not_null() | c["resp_ip_bytes"].is_not_null()
    # Out-of-range durations are bad lines; keep them from overflowing the arithmetic meanwhile.
    sane = cols.duration.is_between(0, MAX_DURATION_S)
    end_us = pl.when(sane).then((cols.duration * 1_000_000).round().cast(pl.Int64, strict=False))
    return [
        cols.ts.alias("ts_start"),
        (cols.ts + pl.duration(microseconds=end_us)).alias("ts_end"),
        cols.orig_h.alias("src_ip"),
        cols.orig_p.alias("src_port"),
        cols.resp_h.alias("dst_ip"),
        cols.resp_p.alias("dst_port"),
        _protocol(cols).alias("protocol"),
        pl.when(ip_bytes_set)
        .then(c["orig_ip_bytes"].fill_null(0) + c["resp_ip_bytes"].fill_null(0))
        .otherwise(c["orig_bytes"].fill_null(0) + c["resp_bytes"].fill_null(0))
        .alias("bytes"),
        (c["orig_pkts"].fill_null(0) + c["resp_pkts"].fill_null(0)).alias("packets"),
        pl.when(cols.conn_state == "REJ").then(pl.lit("reject")).otherwise(pl.lit("accept")).alias(
            "action"
        ),
        cols.answered.alias("answered"),
        c["orig_bytes"].alias("orig_bytes"),
        *_direction(cols),
    ]


def _direction(cols: ZeekColumns) -> list[pl.Expr]:
    """The working columns `zeek_direction.oriented` reads; only DIRECTION when history keeps every record."""
    if cols.reversed_ is None:
        return [pl.lit(False).alias(DIRECTION)]
    return [
        cols.counts["resp_bytes"].alias(RESP_BYTES),
        (cols.counts["resp_pkts"] == 0).alias(ONE_WAY),
        pl.when(cols.proto == "icmp").then(pl.lit(False)).otherwise(cols.reversed_).alias(DIRECTION),
    ]


def answered_column(rows: pl.DataFrame, state: str | None, history: pl.Expr, resp_pkts: pl.Expr) -> pl.Expr:
    """`zeek_answered` over `rows`, whose conn_state is the text column `state` (None: the log has none).

    When every state present decides by itself (the usual case) this is one membership test: looking at
    history and packets row by row costs ~15 % of a whole parse."""
    if state is None or rows.height == 0:
        return zeek_answered(pl.lit(None, pl.Utf8), history, resp_pkts)
    column = rows[state]
    present = column.drop_nulls().unique().to_list()
    if column.null_count() or any(value.strip() not in (*ZEEK_ANSWERED, *ZEEK_UNANSWERED) for value in present):
        return zeek_answered(pl.col(state), history, resp_pkts)
    refused = [value for value in present if value.strip() in ZEEK_UNANSWERED]
    return ~pl.col(state).is_in(refused) if refused else pl.lit(True)


def _protocol(cols: ZeekColumns) -> pl.Expr:
    # polars types a then-chain as Then, then ChainedThen: one Any name keeps the branches simple.
    chain: Any = pl.when((cols.proto == "icmp") & cols.orig_h.str.contains(":", literal=True)).then(pl.lit("icmp6"))
    if cols.ip_proto is not None:
        chain = chain.when((cols.proto == "unknown_transport") & cols.ip_proto.is_not_null()).then(
            protocol_from_number(cols.ip_proto)
        )
    result: pl.Expr = chain.otherwise(cols.proto)
    return result


def is_conn_path(path: str | None) -> bool:
    """Zeek's conn.log (and RITA's open_conn.log) say `conn`; other logs are not flows."""
    return path is None or "conn" in path
