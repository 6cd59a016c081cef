"""Zeek conn.log in its JSON-lines encoding: flat dotted keys, unset fields omitted.

`ts` is epoch seconds as a float by default, or ISO 8601 text when Zeek was configured with
`JSON::TS_ISO8601`; the first line decides which (a line of the other kind is a bad line).
Records whose `_path` is not a conn log are skipped, since mixed Zeek streams carry other logs.
"""

from __future__ import annotations

import re

import polars as pl
import pyarrow as pa

from jobs.engines.flows.columns import Check, Conversion, epoch_to_datetime, lowercase, reason, select_checked
from jobs.engines.flows.finalize import finalize
from jobs.engines.flows.jsonlines import read_json_lines
from jobs.engines.flows.result import ChunkResult
from jobs.engines.flows.timestamps import with_timestamps
from jobs.engines.flows.zeek_common import COUNT_FIELDS, ZeekColumns, answered_column, zeek_canonical, zeek_checks
from jobs.engines.flows.zeek_direction import declared_reversed, oriented

_TEXT_TS = re.compile(rb'"ts"\s*:\s*"')


def _schema(text_ts: bool) -> pa.Schema:
    fields = [
        ("ts", pa.string() if text_ts else pa.float64()),
        ("id.orig_h", pa.string()), ("id.orig_p", pa.int64()),
        ("id.resp_h", pa.string()), ("id.resp_p", pa.int64()),
        ("proto", pa.string()), ("duration", pa.float64()), ("conn_state", pa.string()), ("history", pa.string()),
        ("ip_proto", pa.int64()), ("_path", pa.string()),
        *((name, pa.int64()) for name in COUNT_FIELDS),
    ]
    return pa.schema(fields)


class ZeekJsonParser:
    """Parses chunks of Zeek JSON lines; the ts encoding is fixed by the first chunk."""

    def __init__(self) -> None:
        self.text_ts: bool | None = None

    def parse_chunk(self, chunk: bytes, first_line: int) -> ChunkResult:
        """Parse whole lines; returns canonical rows, bad lines and counts."""
        if self.text_ts is None:
            first = chunk[: 1 << 16].lstrip().split(b"\n", 1)[0]
            self.text_ts = _TEXT_TS.search(first) is not None
        rows, unreadable = read_json_lines(chunk, _schema(self.text_ts), first_line)
        if self.text_ts:
            rows = with_timestamps(rows, {"ts": "_ts"}, epoch=False)
        answered = answered_column(rows, "conn_state", pl.col("history"), pl.col("resp_pkts"))
        conversion = _conversion(self.text_ts, lowercase(rows, "proto"), answered, declared_reversed(rows, "history"))
        return finalize(oriented(select_checked(rows, conversion)), unreadable)


def _conversion(text_ts: bool, proto: pl.Expr, answered: pl.Expr, reversed_: pl.Expr | None) -> Conversion:
    ts = pl.col("_ts") if text_ts else epoch_to_datetime(pl.col("ts"))
    ports = {name: pl.col(name) for name in ("id.orig_p", "id.resp_p")}
    in_range = {name: col.is_between(0, 65535) for name, col in ports.items()}
    cols = ZeekColumns(
        ts=ts, orig_h=pl.col("id.orig_h"), resp_h=pl.col("id.resp_h"),
        orig_p=pl.when(in_range["id.orig_p"]).then(ports["id.orig_p"]).cast(pl.Int32, strict=False),
        resp_p=pl.when(in_range["id.resp_p"]).then(ports["id.resp_p"]).cast(pl.Int32, strict=False),
        proto=proto, duration=pl.col("duration"),
        counts={name: pl.col(name) for name in COUNT_FIELDS},
        conn_state=pl.col("conn_state"), answered=answered, ip_proto=pl.col("ip_proto"), reversed_=reversed_,
    )
    path = pl.col("_path")
    skip = pl.when(path.is_not_null() & ~path.str.contains("conn", literal=True)).then(
        pl.concat_str(pl.lit("zeek _path '"), path.str.head(40), pl.lit("' is not conn"))
    )
    checks: list[Check] = [
        *zeek_checks(cols, pl.col("ts")),
        *(
            (col.is_not_null() & ~in_range[name], reason(f"invalid {name}", col.cast(pl.Utf8)))
            for name, col in ports.items()
        ),
        *((pl.col(n) < 0, reason(f"invalid {n}", pl.col(n).cast(pl.Utf8))) for n in COUNT_FIELDS),
    ]
    # A record of another log is skipped as a whole, so its fields are not judged.
    other_log = path.is_not_null() & ~path.str.contains("conn", literal=True)
    return Conversion(
        columns=zeek_canonical(cols), checks=[(cond & ~other_log, why) for cond, why in checks], skip=skip
    )
