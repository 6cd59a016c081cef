"""AWS VPC Flow Logs (and Transit Gateway flow logs): space-separated, header optional.

Decisions:
- Field order comes from a header line (which may repeat mid-file, and a new one applies to the
  lines after it), else from an explicit field list, else from the default layout whose field
  count and values fit the first records (see `vpc_layouts.guess_layout`).
- NODATA/SKIPDATA rows are not flows: they are counted as skipped ("vpc NODATA", …), whatever
  else they carry. `-` means unset anywhere; unset ports stay null, unset counts are 0.
- Endpoints are pkt-srcaddr/pkt-dstaddr when set (the original packet, e.g. behind a NAT
  gateway), else srcaddr/dstaddr. Transit Gateway records have no action: it stays null.
- answered: not REJECT and, where the layout has tcp-flags (v3+), not SYN alone
  (`detect.answered.vpc_answered`). A record is one direction, so orig_bytes = bytes.
- A start outside [1970, 2100) is a bad line; an odd but valid one (9 digits) is kept.
- Direction: a record is one direction of a connection, so both halves of every connection are
  logged; only the request half makes an edge (issue 19 A2). Where the layout has tcp-flags (v3+;
  OR'ed over the interval: FIN 1, SYN 2, RST 4, SYN-ACK 18) a TCP record with the SYN-ACK bit is the
  reply half (skipped as "reply direction") and one with SYN alone the request. Other records are
  decided by the ports (`direction`: a server seen in the batch, ephemeral ports, then well-known
  ports); the rest are skipped as "direction unknown", never kept as a request to an ephemeral port.
  ICMP records carry no type (ports are 0 0), so they are unknown unless a batch peer decides them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from jobs.engines.detect.answered import vpc_answered
from jobs.engines.flows.columns import (
    Check,
    Conversion,
    cast_int,
    cast_port,
    epoch_to_datetime,
    is_unset,
    protocol_from_number,
    reason,
    select_checked,
)
from jobs.engines.flows.delimited import WHITESPACE, drop_blank_rows, read_delimited
from jobs.engines.flows.direction import DIRECTION, REPLY_SKIP, with_direction_skips
from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.finalize import finalize
from jobs.engines.flows.result import ChunkResult, empty_chunk
from jobs.engines.flows.vpc_layouts import KNOWN_FIELDS, check_fields, guess_layout, is_header

# Widest record we read; AWS layouts have at most 40 fields.
MAX_FIELDS: Final = 64
_TOKENS: Final = [f"t{i}" for i in range(MAX_FIELDS + 1)]
UNSET: Final = ("-",)
# Header-less files: this many first records decide the layout.
LAYOUT_SAMPLE: Final = 20
SKIP_STATUSES: Final = ("NODATA", "SKIPDATA")
ACTIONS: Final = {"ACCEPT": "accept", "REJECT": "reject"}
_INT_FIELDS: Final = ("start", "end", "protocol", "packets", "bytes")
TCP: Final = 6
SYN: Final = 2
SYN_ACK_BIT: Final = 16  # the ACK half of AWS's SYN-ACK value 18; AWS logs no other ACK


class VpcParser:
    """Parses chunks of a VPC flow log; the field list in force carries over to later chunks."""

    def __init__(self, fields: Sequence[str] | None = None) -> None:
        self.fields: tuple[str, ...] | None = None
        if fields is not None:
            self.fields = _checked(tuple(fields))

    def parse_chunk(self, chunk: bytes, first_line: int) -> ChunkResult:
        """Parse whole lines; returns canonical rows, bad lines and counts."""
        rows = self._read(chunk, first_line)
        tokens = _token_names(rows)
        headers = rows.filter(pl.col("t0").is_in(list(KNOWN_FIELDS))).select([*tokens, "_pos"])
        frames: list[pl.DataFrame] = []
        start = 0
        for header in headers.iter_rows():
            names = [token for token in header[:-1] if token is not None]
            if not is_header(names):
                continue
            frames.append(self._convert(rows.slice(start, header[-1] - start)))
            self.fields = _checked(tuple(names))
            start = header[-1] + 1
        frames.append(self._convert(rows.slice(start)))
        frames = [frame for frame in frames if frame.height]
        if not frames:
            return empty_chunk()
        return finalize(with_direction_skips(pl.concat(frames, how="vertical"), well_known=True))

    def _read(self, chunk: bytes, first_line: int) -> pl.DataFrame:
        """The chunk's lines as token columns with `_pos`.

        When the field list is known (from an earlier chunk or a header on the first line), only that
        many tokens plus one are read: reading all MAX_FIELDS + 1 columns of every line costs several
        times more. A line with more tokens than that (a longer header, an overlong record) sends the
        chunk back to the full read, so token counts and headers are always exact.
        """
        known = self.fields or _leading_header(chunk)
        rows = _read_tokens(chunk, first_line, len(known) + 1 if known else len(_TOKENS))
        if known and (rows["_count"] > len(known)).any():
            rows = _read_tokens(chunk, first_line, len(_TOKENS))
        return rows.with_row_index("_pos")

    def _convert(self, rows: pl.DataFrame) -> pl.DataFrame:
        if rows.height == 0:
            return rows
        if self.fields is None:
            head = rows.head(LAYOUT_SAMPLE).select(_token_names(rows))
            sample = [[t for t in row if t is not None] for row in head.rows()]
            layout = guess_layout(sample)
            if isinstance(layout, str):
                raise FlowFileRejected(layout)
            self.fields = layout
        return select_checked(rows, _conversion(self.fields))


def _checked(fields: tuple[str, ...]) -> tuple[str, ...]:
    problem = check_fields(fields)
    if problem is not None:
        raise FlowFileRejected(problem)
    return fields


def _leading_header(chunk: bytes) -> tuple[str, ...] | None:
    """The field list named by a header on the chunk's first non-blank line, if it starts with one."""
    for line in chunk[: 1 << 16].split(b"\n"):
        if line.strip(WHITESPACE):
            names = [token for token in line.decode("utf-8", "replace").rstrip("\r").split(" ") if token]
            return tuple(names) if is_header(names) and check_fields(tuple(names)) is None else None
    return None


def _token_names(rows: pl.DataFrame) -> list[str]:
    return [name for name in _TOKENS if name in rows.columns]


def _read_tokens(chunk: bytes, first_line: int, width: int) -> pl.DataFrame:
    """The first `width` space-separated tokens of each line (t0, t1, …), `_count` of tokens read."""
    names = _TOKENS[:width]
    rows = read_delimited(
        chunk, has_header=False, separator=" ", quote_char=None,
        schema={name: pl.Utf8 for name in names}, truncate_ragged_lines=True,
        missing_columns="insert", extra_columns="ignore", raise_if_empty=False,
    )
    count = pl.sum_horizontal(pl.col(name).is_not_null() for name in names)
    rows = rows.with_row_index("_row").with_columns(
        pl.col("_row").cast(pl.Int64),
        _line=pl.col("_row").cast(pl.Int64) + first_line,
        _count=count.cast(pl.Int64),
    )
    return drop_blank_rows(rows, chunk, "t0", second_field="t1")


def _conversion(fields: tuple[str, ...]) -> Conversion:
    def raw(name: str) -> pl.Expr:
        return pl.col(f"t{fields.index(name)}") if name in fields else pl.lit(None, pl.Utf8)

    def address(name: str) -> pl.Expr:
        return pl.when(~is_unset(raw(name), UNSET)).then(raw(name))

    ints = {name: cast_int(raw(name), pl.Int64(), UNSET) for name in _INT_FIELDS}
    ports = {name: cast_port(raw(name), UNSET) for name in ("srcport", "dstport")}
    ts_start = epoch_to_datetime(ints["start"][0].cast(pl.Float64))
    status, action = raw("log-status"), raw("action")
    declared = _declared_reply(ints["protocol"][0], raw("tcp-flags") if "tcp-flags" in fields else None)
    skip = (
        pl.when(status.is_in(list(SKIP_STATUSES))).then(pl.concat_str(pl.lit("vpc "), status))
        .when(declared).then(pl.lit(REPLY_SKIP))
    )
    wrong_count = pl.col("_count") != len(fields)
    count_reason = pl.concat_str(pl.lit(f"expected {len(fields)} fields, got "), pl.col("_count").cast(pl.Utf8))
    checks: list[Check] = [
        (ints["start"][1] | ts_start.is_null(), reason("invalid start", raw("start"))),
        (address("srcaddr").is_null(), reason("missing srcaddr")),
        (address("dstaddr").is_null(), reason("missing dstaddr")),
        (ints["protocol"][0].is_null(), reason("invalid protocol", raw("protocol"))),
        *((bad, reason(f"invalid {name}", raw(name))) for name, (_, bad) in ports.items()),
        *((bad | (value < 0), reason(f"invalid {name}", raw(name))) for name, (value, bad) in ints.items()),
        (~is_unset(action, UNSET) & ~action.is_in(list(ACTIONS)), reason("invalid action", action)),
    ]
    flow_checks = [(cond & skip.is_null(), why) for cond, why in checks]
    # A wrong field count is bad even on a NODATA row; other checks only judge flows.
    return Conversion(checks=[(wrong_count, count_reason), *flow_checks], skip=skip, columns=[
        ts_start.alias("ts_start"),
        epoch_to_datetime(ints["end"][0].cast(pl.Float64)).alias("ts_end"),
        pl.coalesce(address("pkt-srcaddr"), address("srcaddr")).alias("src_ip"),
        ports["srcport"][0].alias("src_port"),
        pl.coalesce(address("pkt-dstaddr"), address("dstaddr")).alias("dst_ip"),
        ports["dstport"][0].alias("dst_port"),
        protocol_from_number(ints["protocol"][0]).alias("protocol"),
        ints["bytes"][0].fill_null(0).alias("bytes"),
        ints["packets"][0].fill_null(0).alias("packets"),
        action.replace_strict(ACTIONS, default=None).alias("action"),
        vpc_answered(action, raw("tcp-flags") if "tcp-flags" in fields else None),
        ints["bytes"][0].fill_null(0).alias("orig_bytes"),
        declared.alias(DIRECTION),
    ])


def _declared_reply(protocol: pl.Expr, tcp_flags: pl.Expr | None) -> pl.Expr:
    """What a TCP record's tcp-flags say: True the reply half (SYN-ACK seen), False the request (SYN
    without it), null otherwise (no flags, no SYN in the interval, not TCP)."""
    if tcp_flags is None:
        return pl.lit(None, pl.Boolean)
    flags = tcp_flags.cast(pl.Int64, strict=False)
    syn = (protocol == TCP) & ((flags & SYN) != 0)
    return pl.when(syn).then((flags & SYN_ACK_BIT) != 0)
