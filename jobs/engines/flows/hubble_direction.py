"""Which way a Hubble flow goes: a request (kept as an edge), a reply (skipped) or unknown (skipped, counted).

Hubble reports packets both ways; only requests make edges, or every connection would add a reversed
edge to an ephemeral port (issue 19: `basic-sample-400-tcp-flows.json` line 261, jaeger:14250 →
otelcol:39472, ACK only, and line 282, ratings:9080 → 10.244.1.29:58950, SYN-ACK). The signals, first
that decides wins:

1. TCP flags: a SYN without ACK opens a connection (request), a SYN-ACK answers one (reply). They come
   first because connection tracking that missed the SYN calls the SYN-ACK a new connection.
2. `is_reply` (or the deprecated `reply`) when the flow has it: Cilium's connection tracking knew.
   ICMP echo: type 8 (ICMPv6 128) is a request, type 0 (ICMPv6 129) a reply.
3. A server port seen in the same batch: an address, port and protocol that is the destination of a
   decided request or the source of a decided reply is a server. A flow from such a server to a peer
   that is not one is a reply; the other way round, a request.
4. Ephemeral ports: exactly one side's port in 32768–65535 (Linux 32768–60999, IANA 49152–65535)
   and the other's below: the lower side is the server.

A flow none of these decides is skipped as "direction unknown" (counted in the parse result's
`skip_reasons`), never kept as a request to whichever port it happens to name. `traffic_direction`
is not read: wherever Cilium knows it, it also sets `is_reply` (both come from the same
connection-tracking verdict).
"""

from __future__ import annotations

from typing import Final

import polars as pl

EPHEMERAL_FIRST: Final = 32768
TCP_SYN: Final = 1  # bits of the scanner's "TCP.flags" column
TCP_ACK: Final = 2
ICMP_ECHO: Final = {"icmp": (8, 0), "icmp6": (128, 129)}  # protocol: (request type, reply type)
REPLY_SKIP: Final = "reply direction"
UNKNOWN_SKIP: Final = "direction unknown"
DIRECTION: Final = "_reply"  # working column: True reply, False request, null undecided


def declared_reply(tcp_flags: pl.Expr, is_reply: pl.Expr, reply: pl.Expr, icmp_types: dict[str, pl.Expr]) -> pl.Expr:
    """Signals 1 and 2 of the module docstring, per flow: True reply, False request, null undecided.

    `icmp_types` maps "icmp"/"icmp6" to the ICMP type column (null on other flows): integer tests on every
    row are much cheaper than comparing the protocol's text.
    """
    syn = (tcp_flags & TCP_SYN) != 0
    handshake = pl.when(syn).then((tcp_flags & TCP_ACK) != 0)
    echo = pl.lit(None, pl.Boolean)
    for name, (request, answer) in ICMP_ECHO.items():
        kind = icmp_types[name]
        echo = pl.when(kind == request).then(pl.lit(False)).when(kind == answer).then(pl.lit(True)).otherwise(echo)
    return pl.coalesce(handshake, is_reply, reply, echo)


def with_direction_skips(frame: pl.DataFrame) -> pl.DataFrame:
    """Decide the flows of `frame` that signals 1 and 2 left open (signals 3 and 4), then skip those that
    turn out replies and the unknowns. Replies decided by signals 1 and 2 are already skipped
    (in the parser's own select, which is cheaper).

    `frame` holds the canonical address, port and protocol columns, `_skip`, `_bad` and DIRECTION.
    """
    if frame[DIRECTION].null_count() == 0:
        return frame
    open_ = pl.col("_skip").is_null() & pl.col(DIRECTION).is_null()
    resolved = _resolved(frame)
    skip = (
        pl.when(open_ & resolved).then(pl.lit(REPLY_SKIP))
        .when(open_ & resolved.is_null()).then(pl.lit(UNKNOWN_SKIP))
        .otherwise(pl.col("_skip"))
    )
    return frame.with_columns(skip.alias("_skip"))


def _endpoint(side: str) -> pl.Expr:
    return pl.struct(pl.col(f"{side}_ip").alias("ip"), pl.col(f"{side}_port").alias("port"), "protocol")


def _resolved(frame: pl.DataFrame) -> pl.Expr:
    """DIRECTION with signals 3 and 4 filling its nulls."""
    live = pl.col("_skip").is_null() & pl.col("_bad").is_null()
    servers = frame.lazy().select(
        pl.when(live & ~pl.col(DIRECTION)).then(_endpoint("dst"))
        .when(live & pl.col(DIRECTION)).then(_endpoint("src"))
        .drop_nulls().unique().alias("server")
    ).collect()["server"]
    known = pl.lit(servers.implode())
    src_server, dst_server = _endpoint("src").is_in(known), _endpoint("dst").is_in(known)
    src_low = pl.col("src_port") < EPHEMERAL_FIRST
    dst_low = pl.col("dst_port") < EPHEMERAL_FIRST
    by_port = (
        pl.when(src_server & ~dst_server).then(pl.lit(True))
        .when(dst_server & ~src_server).then(pl.lit(False))
        .when(src_low & ~dst_low).then(pl.lit(True))
        .when(dst_low & ~src_low).then(pl.lit(False))
    )
    return pl.coalesce(pl.col(DIRECTION), by_port)
