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

import polars as pl

from jobs.flows.columns import (
    Check,
    cast_int,
    cast_port,
    epoch_to_datetime,
    first_reason,
    is_unset,
    reason,
)
from jobs.flows.delimited import drop_blank_rows, read_delimited
from jobs.flows.exceptions import FlowFileRejected
from jobs.flows.finalize import finalize
from jobs.flows.result import ChunkResult, empty_chunk
from jobs.flows.zeek_common import (
    COUNT_FIELDS,
    REQUIRED_FIELDS,
    USED_FIELDS,
    ZeekColumns,
    is_conn_path,
    zeek_canonical,
    zeek_checks,
)

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
        # Fast path: one read of everything after the header, which suits a file whose only
        # other comments are trailing (#close); a header mid-file takes the section path.
        rows = self._read_rows(chunk, skipped, first_line + skipped)
        is_comment = pl.col("c0").str.starts_with("#").fill_null(False)
        comment_rows = rows.select(pl.arg_where(is_comment))[:, 0]
        if comment_rows.len() == 0:
            return finalize(self._convert(rows, chunk, skipped))
        start = int(comment_rows[0])
        tail = rows.slice(start)
        if tail.filter(~is_comment & pl.col("c0").is_not_null()).height:
            return self._parse_sections(chunk, pos, first_line + skipped)
        result = finalize(self._convert(rows.slice(0, start), chunk, skipped))
        self._apply_tail(chunk, tail.height)
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
                frames.append(self._convert(self._read_rows(section, 0, line), section, 0))
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

    def _apply_tail(self, chunk: bytes, count: int) -> None:
        """Apply the trailing `count` lines of the chunk that are header/trailer lines."""
        parts = chunk.rsplit(b"\n", count + 1)
        tail = parts[-count - 1 : -1] if chunk.endswith(b"\n") else parts[-count:]
        for line in tail:
            if line.startswith(b"#"):
                self.header.apply(line)

    def _read_rows(self, data: bytes, skip_lines: int, first_line: int) -> pl.DataFrame:
        fields = self.header.fields
        if fields is None:
            raise FlowFileRejected("Zeek TSV data comes before any #fields header")
        separator = self.header.separator
        if len(separator.encode("utf-8")) != 1 or separator in "\r\n":
            raise FlowFileRejected(f"Zeek #separator {separator!r} is not a single byte")
        width = len(fields)
        index = {name: i for i, name in enumerate(fields)}
        # Read the last field and one phantom column too: they reveal cut and overlong lines.
        wanted = sorted({0, width - 1, width} | {index[n] for n in USED_FIELDS if n in index})
        rows = read_delimited(
            data, has_header=False, separator=separator, quote_char=None, skip_lines=skip_lines,
            schema={f"c{i}": pl.Utf8 for i in range(width + 1)}, columns=wanted,
            truncate_ragged_lines=True, missing_columns="insert", extra_columns="ignore", raise_if_empty=False,
        )
        return rows.with_row_index("_row").with_columns(_line=pl.col("_row").cast(pl.Int64) + first_line)

    def _convert(self, rows: pl.DataFrame, data: bytes, skip_lines: int) -> pl.DataFrame:
        assert self.header.fields is not None  # _read_rows refused rows without a header
        index = {name: i for i, name in enumerate(self.header.fields)}
        rows = drop_blank_rows(rows, data, "c0", skip_lines)
        return rows.lazy().select(self._expressions(index, len(self.header.fields))).collect()

    def _expressions(self, index: dict[str, int], width: int) -> list[pl.Expr]:
        unset = (self.header.unset, self.header.empty)

        def raw(name: str) -> pl.Expr:
            return pl.col(f"c{index[name]}") if name in index else pl.lit(None, pl.Utf8)

        def address(name: str) -> pl.Expr:
            return pl.when(~is_unset(raw(name), unset)).then(raw(name))

        orig_p, bad_orig_p = cast_port(raw("id.orig_p"), unset)
        resp_p, bad_resp_p = cast_port(raw("id.resp_p"), unset)
        duration, bad_duration = _cast_float(raw("duration"), unset)
        ip_proto, bad_ip_proto = cast_int(raw("ip_proto"), pl.Int64(), unset)
        counts = {name: cast_int(raw(name), pl.Int64(), unset) for name in COUNT_FIELDS}
        cols = ZeekColumns(
            ts=epoch_to_datetime(raw("ts").cast(pl.Float64, strict=False)),
            orig_h=address("id.orig_h"), resp_h=address("id.resp_h"),
            orig_p=orig_p, resp_p=resp_p, proto=address("proto"), duration=duration,
            counts={name: value for name, (value, _) in counts.items()},
            conn_state=raw("conn_state"), ip_proto=ip_proto,
        )
        checks: list[Check] = [
            (pl.col(f"c{width - 1}").is_null(), reason("line has fewer fields than #fields (cut short?)")),
            (pl.col(f"c{width}").is_not_null(), reason("line has more fields than #fields")),
            *zeek_checks(cols, raw("ts")),
            (bad_orig_p, reason("invalid id.orig_p", raw("id.orig_p"))),
            (bad_resp_p, reason("invalid id.resp_p", raw("id.resp_p"))),
            (bad_duration, reason("invalid duration", raw("duration"))),
            (bad_ip_proto, reason("invalid ip_proto", raw("ip_proto"))),
            *((bad, reason(f"invalid {name}", raw(name))) for name, (_, bad) in counts.items()),
        ]
        return [
            *zeek_canonical(cols), pl.col("_line"),
            first_reason(checks).alias("_bad"), pl.lit(None, pl.Utf8).alias("_skip"),
        ]


def _cast_float(raw: pl.Expr, unset: tuple[str, str]) -> tuple[pl.Expr, pl.Expr]:
    value = raw.cast(pl.Float64, strict=False)
    return value, ~is_unset(raw, unset) & value.is_null()


def _next_comment(chunk: bytes, pos: int) -> int:
    """Offset of the next line that starts with '#' (or the chunk's end)."""
    # '#' never occurs inside conn.log values, so a one-byte search is both exact and fast.
    hit = chunk.find(b"#", pos)
    while hit > 0 and chunk[hit - 1 : hit] != b"\n":
        hit = chunk.find(b"#", hit + 1)
    return len(chunk) if hit == -1 else hit
