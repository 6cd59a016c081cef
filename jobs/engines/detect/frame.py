"""The detection frame: canonical flows plus what detection needs, computed once per window.

    prepare(canonical, home) -> polars frame with DETECTION_SCHEMA

Beyond the canonical columns it has: `ts` and `duration` in seconds, `orig_bytes` (the originator's
payload when the parser gave it, else the flow's bytes), `answered`, the direction columns of
`home.with_direction`, `icmp_reply` (an ICMP answer or error message: a reaction, never an initiative
worth calling a scan or a beacon) and `actor` (who acts: a home source by its address, an outside one by
its /24, since scanners and brute-forcers rotate through neighbouring addresses).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from jobs.engines.detect.answered import canonical_answered
from jobs.engines.detect.home import HomeNetworks, with_direction

# ICMPv4 echo reply, unreachable, source quench, redirect, time exceeded, parameter problem and the
# timestamp / information / mask replies; ICMPv6 errors 1-4, echo reply, router and neighbour adverts
ICMP_REPLY_TYPES: Final = (0, 3, 4, 5, 11, 12, 14, 16, 18)
ICMP6_REPLY_TYPES: Final = (1, 2, 3, 4, 129, 134, 136)
DETECTION_SCHEMA: Final[dict[str, pl.DataType]] = {
    "ts": pl.Float64(), "duration": pl.Float64(), "src_ip": pl.Utf8(), "src_port": pl.Int32(),
    "dst_ip": pl.Utf8(), "dst_port": pl.Int32(), "protocol": pl.Utf8(), "bytes": pl.Int64(),
    "orig_bytes": pl.Int64(), "answered": pl.Boolean(), "src_home": pl.Boolean(), "dst_home": pl.Boolean(),
    "src_net": pl.Utf8(), "dst_net": pl.Utf8(), "direction": pl.Utf8(), "local_scope": pl.Boolean(),
    "icmp_reply": pl.Boolean(), "actor": pl.Utf8(),
}


def prepare(canonical: pl.DataFrame, home: HomeNetworks) -> pl.DataFrame:
    """The detection frame of a canonical flow frame (any extra `answered` / `orig_bytes` columns are used)."""
    if canonical.height == 0:
        return pl.DataFrame(schema=DETECTION_SCHEMA)
    ts = pl.col("ts_start").dt.epoch("us").cast(pl.Float64) / 1e6
    duration = (pl.col("ts_end") - pl.col("ts_start")).dt.total_microseconds().cast(pl.Float64) / 1e6
    orig = pl.col("orig_bytes").cast(pl.Int64) if "orig_bytes" in canonical.columns else pl.lit(None, pl.Int64)
    base = canonical.select(
        ts.alias("ts"), duration.alias("duration"), "src_ip", "src_port", "dst_ip", "dst_port",
        pl.col("protocol").str.to_lowercase(), pl.col("bytes").fill_null(0),
        pl.coalesce(orig, pl.col("bytes")).fill_null(0).alias("orig_bytes"), canonical_answered(canonical),
    )
    directed = with_direction(base, home)
    return directed.with_columns(icmp_reply(), actor()).select(
        [pl.col(name).cast(dtype) for name, dtype in DETECTION_SCHEMA.items()])


def icmp_reply() -> pl.Expr:
    """True for ICMP answers and errors (Zeek puts the ICMP type in the source port)."""
    kind = pl.col("src_port")
    v4 = (pl.col("protocol") == "icmp") & kind.is_in(ICMP_REPLY_TYPES)
    v6 = (pl.col("protocol") == "icmp6") & kind.is_in(ICMP6_REPLY_TYPES)
    return (v4 | v6).fill_null(False).alias("icmp_reply")


def actor() -> pl.Expr:
    """A home source acts as itself; an outside IPv4 source as its /24 (IPv6 sources as themselves: a /64
    would need the address expanded, and IPv6 scanning from rotating neighbours is still rare)."""
    outside_v4 = pl.col("src_ip").str.replace(r"^(\d+\.\d+\.\d+)\.\d+$", "${1}.0/24")
    return pl.when(pl.col("src_home")).then(pl.col("src_ip")).otherwise(outside_v4).alias("actor")
