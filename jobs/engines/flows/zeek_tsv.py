"""Zeek conn.log in its ASCII (TSV) encoding.

Column order always comes from `#fields`, so extra columns (`_node_name` first, `ip_proto` last)
and missing ones are fine. Header lines may appear again mid-file (concatenated logs) and the
newest header applies to the lines after it; `#close` may be missing. A line with fewer fields
than `#fields` (a cut last line) or more is a bad line, as is one whose ts is not a number (the
masked `XXXXXXXXXX.XXXXXX` of test baselines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from jobs.engines.flows.columns import (
    Check,
    Conversion,
    cast_int,
    cast_port,
    epoch_to_datetime,
    is_unset,
    lowercase,
    reason,
    select_checked,
)
from jobs.engines.flows.delimited import drop_blank_rows, read_delimited
from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.finalize import finalize
from jobs.engines.flows.result import ChunkResult, empty_chunk
from jobs.engines.flows.zeek_common import (
    COUNT_FIELDS,
    REQUIRED_FIELDS,
    USED_FIELDS,
    ZeekColumns,
    answered_column,
    is_conn_path,
    zeek_canonical,
    zeek_checks,
)
from jobs.engines.flows.zeek_direction import declared_reversed, oriented

MAX_TRAILER_BYTES = 1 << 16
# Fields read as numbers when the whole file parses cleanly.
_NUMERIC: dict[str, pl.DataType] = {
    "ts": pl.Float64(), "id.orig_p": pl.Int64(), "id.resp_p": pl.Int64(), "duration": pl.Float64(),
    "ip_proto": pl.Int64(), **{name: pl.Int64() for name in COUNT_FIELDS},
}
_DIRECTIVE = re.compile(r"#(\w+)(?:.(.*))?$", re.S)
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


@dataclass(slots=True)
class ZeekHeader:
    """The header directives in force; each new header line updates it."""

    separator: str = "\t"
    unset: str = "-"
    empty: str = "(empty)"
    fields: tuple[str, ...] | None = field(default=None)

    def apply(self, raw: bytes) -> None:
        """Apply one `#...` header line; unknown directives (`#open`, `### BTest…`) are ignored."""
        match = _DIRECTIVE.match(raw.decode("utf-8", "replace").rstrip("\r"))
        if match is None:
            return
        name, value = match.group(1), match.group(2) or ""
        if name == "separator":
            self.separator = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
        elif name == "unset_field":
            self.unset = value
        elif name == "empty_field":
            self.empty = value
        elif name == "path" and not is_conn_path(value):
            raise FlowFileRejected(f"Zeek log #path is '{value[:40]}', not a conn log")
        elif name == "fields":
            self.fields = _check_fields(value.split(self.separator))


def _check_fields(names: list[str]) -> tuple[str, ...]:
    missing = [name for name in REQUIRED_FIELDS if name not in names]
    if missing:
        raise FlowFileRejected(f"Zeek #fields lacks {', '.join(missing)}; is this a conn.log?")
    if len(set(names)) != len(names):
        raise FlowFileRejected("Zeek #fields names a field twice")
    return tuple(names)


class ZeekTsvParser:
    """Parses chunks of a Zeek TSV log; the header seen so far carries over to later chunks."""

    def __init__(self) -> None:
        self.header = ZeekHeader()

    def parse_chunk(self, chunk: bytes, first_line: int) -> ChunkResult:
        """Parse whole lines; returns canonical rows, bad lines and counts."""
        pos, skipped = self._consume_comments(chunk, 0)
        if pos >= len(chunk):
            return empty_chunk()
        end = _next_comment(chunk, pos)
        tail = chunk[end:]
        if not _only_comments(tail):
            return self._parse_sections(chunk, pos, first_line + skipped)
        # Fast path (header, data, then only trailer lines such as #close): one read of the
        # whole chunk, with no copy of the data part.
        rows = self._read_rows(chunk, skipped, first_line + skipped, trailer=end < len(chunk))
        result = finalize(self._convert(rows, chunk, skipped))
        for line in tail.split(b"\n"):
            if line:
                self.header.apply(line)
        return result

    def _parse_sections(self, chunk: bytes, pos: int, line: int) -> ChunkResult:
        """General path: each run of data lines is read with the header in force before it."""
        frames: list[pl.DataFrame] = []
        known_pos = pos
        while pos < len(chunk):
            pos, _ = self._consume_comments(chunk, pos)
            end = _next_comment(chunk, pos)
            if end > pos:
                # Line numbers are counted lazily: only where a data section starts.
                line += chunk.count(b"\n", known_pos, pos)
                known_pos = pos
                section = chunk[pos:end]
                frames.append(self._convert(self._read_rows(section, 0, line, trailer=False), section, 0))
            pos = end
        return finalize(pl.concat(frames, how="vertical")) if frames else empty_chunk()

    def _consume_comments(self, chunk: bytes, pos: int) -> tuple[int, int]:
        """Apply the header lines (and skip blank lines) at `pos`; returns (new pos, lines)."""
        lines = 0
        while pos < len(chunk) and chunk[pos : pos + 1] in (b"#", b"\n"):
            end = chunk.find(b"\n", pos)
            end = len(chunk) if end == -1 else end
            if chunk[pos : pos + 1] == b"#":
                self.header.apply(chunk[pos:end])
            pos, lines = end + 1, lines + 1
        return pos, lines

    def _read_rows(
        self, data: bytes, skip_lines: int, first_line: int, *, trailer: bool
    ) -> tuple[pl.DataFrame, bool]:
        """Rows of raw fields plus `_row`/`_line`, and whether numeric fields came typed.

        A clean file is read with numeric fields typed (much cheaper to convert); when any value
        does not parse, the file is read again as text so each bad line is found and reported.
        `trailer` says `data` ends with '#' lines (`#close`), which the reader must then drop: it
        reads ~20 % faster when it need not look for them.
        """
        fields = self._fields()
        separator = self.header.separator
        if len(separator.encode("utf-8")) != 1 or separator in "\r\n":
            raise FlowFileRejected(f"Zeek #separator {separator!r} is not a single byte")
        width = len(fields)
        index = {name: i for i, name in enumerate(fields)}
        # Read the last field and one phantom column too: they reveal cut and overlong lines.
        wanted = sorted({0, width - 1, width} | {index[n] for n in USED_FIELDS if n in index})
        text: dict[str, pl.DataType] = {f"c{i}": pl.Utf8() for i in range(width + 1)}
        # Only trailing comment lines can reach the reader (see parse_chunk); it drops them.
        options: dict[str, Any] = dict(
            has_header=False, separator=separator, quote_char=None, skip_lines=skip_lines, columns=wanted,
            comment_prefix="#" if trailer else None,
            truncate_ragged_lines=True, missing_columns="insert", extra_columns="ignore", raise_if_empty=False,
        )
        numeric = {f"c{index[n]}": dtype for n, dtype in _NUMERIC.items() if n in index}
        try:
            # Only numeric fields map the unset marker to null: text fields keep it (and a null
            # last field must keep meaning "line cut short").
            unset = {name: self.header.unset for name in numeric}
            rows = pl.read_csv(data, schema={**text, **numeric}, null_values=unset, **options)
            is_typed = True
        except pl.exceptions.ComputeError:
            rows, is_typed = read_delimited(data, schema=text, **options), False
        rows = rows.with_row_index("_row").with_columns(_line=pl.col("_row").cast(pl.Int64) + first_line)
        return rows, is_typed

    def _convert(self, read: tuple[pl.DataFrame, bool], data: bytes, skip_lines: int) -> pl.DataFrame:
        rows, typed = read
        fields = self._fields()
        index = {name: i for i, name in enumerate(fields)}
        later = next((name for name in rows.columns if name not in ("c0", "_row", "_line")), None)
        rows = drop_blank_rows(rows, data, "c0", skip_lines, second_field=later)
        proto = lowercase(rows, f"c{index['proto']}")
        history = f"c{index['history']}" if "history" in index else None
        conversion = self._conversion(
            index, len(fields), typed, proto, (self._answered(rows, index), declared_reversed(rows, history))
        )
        return oriented(select_checked(rows, conversion))

    def _answered(self, rows: pl.DataFrame, index: dict[str, int]) -> pl.Expr:
        def raw(name: str) -> pl.Expr:
            return pl.col(f"c{index[name]}") if name in index else pl.lit(None, pl.Utf8)

        history = pl.when(~is_unset(raw("history"), (self.header.unset, self.header.empty))).then(raw("history"))
        state = f"c{index['conn_state']}" if "conn_state" in index else None
        return answered_column(rows, state, history, raw("resp_pkts"))

    def _fields(self) -> tuple[str, ...]:
        if self.header.fields is None:
            raise FlowFileRejected("Zeek TSV data comes before any #fields header")
        return self.header.fields

    def _conversion(
        self, index: dict[str, int], width: int, typed: bool, proto: pl.Expr, decided: tuple[pl.Expr, pl.Expr | None]
    ) -> Conversion:
        """`proto` is the lowercased proto field (see `columns.lowercase`), `decided` the answered flag
        (`answered_column`) and what history says of the direction (`zeek_direction.declared_reversed`)."""
        answered, reversed_ = decided
        unset = (self.header.unset, self.header.empty)

        def raw(name: str) -> pl.Expr:
            absent = pl.lit(None, _NUMERIC.get(name, pl.Utf8()) if typed else pl.Utf8())
            return pl.col(f"c{index[name]}") if name in index else absent

        def address(name: str) -> pl.Expr:
            return pl.when(~is_unset(raw(name), unset)).then(raw(name))

        orig_p, bad_orig_p = cast_port(raw("id.orig_p"), unset, typed=typed)
        resp_p, bad_resp_p = cast_port(raw("id.resp_p"), unset, typed=typed)
        duration, bad_duration = cast_int(raw("duration"), pl.Float64(), unset, typed=typed)
        ip_proto, bad_ip_proto = cast_int(raw("ip_proto"), pl.Int64(), unset, typed=typed)
        counts = {name: cast_int(raw(name), pl.Int64(), unset, typed=typed) for name in COUNT_FIELDS}
        cols = ZeekColumns(
            ts=epoch_to_datetime(raw("ts").cast(pl.Float64, strict=False)),
            orig_h=address("id.orig_h"), resp_h=address("id.resp_h"),
            orig_p=orig_p, resp_p=resp_p, proto=pl.when(~is_unset(raw("proto"), unset)).then(proto), duration=duration,
            counts={name: value for name, (value, _) in counts.items()},
            conn_state=raw("conn_state"), answered=answered, ip_proto=ip_proto if "ip_proto" in index else None,
            reversed_=reversed_,
        )
        checks: list[Check] = [
            (pl.col(f"c{width - 1}").is_null(), reason("line has fewer fields than #fields (cut short?)")),
            (pl.col(f"c{width}").is_not_null(), reason("line has more fields than #fields")),
            *zeek_checks(cols, raw("ts")),
            (bad_orig_p, reason("invalid id.orig_p", raw("id.orig_p").cast(pl.Utf8))),
            (bad_resp_p, reason("invalid id.resp_p", raw("id.resp_p").cast(pl.Utf8))),
            (bad_duration, reason("invalid duration", raw("duration"))),
            (bad_ip_proto, reason("invalid ip_proto", raw("ip_proto"))),
            *((bad, reason(f"invalid {name}", raw(name))) for name, (_, bad) in counts.items()),
        ]
        return Conversion(columns=zeek_canonical(cols), checks=checks)


def _only_comments(tail: bytes) -> bool:
    """True when `tail` holds nothing but '#' lines (a final empty piece is allowed)."""
    # A long tail means data after a mid-file header: the section path handles that.
    if len(tail) > MAX_TRAILER_BYTES:
        return False
    lines = tail.split(b"\n")
    return all(line.startswith(b"#") for line in (lines[:-1] if lines[-1] == b"" else lines))


def _next_comment(chunk: bytes, pos: int) -> int:
    """Offset of the next line that starts with '#' (or the chunk's end)."""
    # '#' never occurs inside conn.log values, so a one-byte search is both exact and fast.
    hit = chunk.find(b"#", pos)
    while hit > 0 and chunk[hit - 1 : hit] != b"\n":
        hit = chunk.find(b"#", hit + 1)
    return len(chunk) if hit == -1 else hit
