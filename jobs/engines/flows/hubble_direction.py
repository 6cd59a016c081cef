"""Which way a Hubble flow goes: a request (kept as an edge), a reply (skipped) or unknown (skipped, counted).

Hubble reports packets both ways; only requests make edges, or every connection would add a reversed
edge to an ephemeral port (issue 19: `basic-sample-400-tcp-flows.json` line 261, jaeger:14250 →
otelcol:39472, ACK only, and line 282, ratings:9080 → 10.244.1.29:58950, SYN-ACK). The signals, first
that decides wins:

1. TCP flags: a SYN without ACK opens a connection (request), a SYN-ACK answers one (reply). They come
   first because connection tracking that missed the SYN calls the SYN-ACK a new connection.
2. `is_reply` (or the deprecated `reply`) when the flow has it: Cilium's connection tracking knew.
   ICMP echo: type 8 (ICMPv6 128) is a request, type 0 (ICMPv6 129) a reply.
3. and 4. The ports (`direction`): a server seen in the same batch, then ephemeral ports.

A flow none of these decides is skipped as "direction unknown" (counted in the parse result's
`skip_reasons`), never kept as a request to whichever port it happens to name. `traffic_direction`
is not read: wherever Cilium knows it, it also sets `is_reply` (both come from the same
connection-tracking verdict).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from jobs.engines.flows.direction import (
    DIRECTION,
    EPHEMERAL_FIRST,
    REPLY_SKIP,
    UNKNOWN_SKIP,
    with_direction_skips,
)

__all__ = ["DIRECTION", "EPHEMERAL_FIRST", "REPLY_SKIP", "UNKNOWN_SKIP", "declared_reply", "with_direction_skips"]

TCP_SYN: Final = 1  # bits of the scanner's "TCP.flags" column
TCP_ACK: Final = 2
ICMP_ECHO: Final = {"icmp": (8, 0), "icmp6": (128, 129)}  # protocol: (request type, reply type)


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
