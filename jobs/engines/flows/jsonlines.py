"""JSON-lines reading with pyarrow's multithreaded parser, and exact bad-line reports.

The fast path parses a whole chunk at once. When that fails, or yields a row count that does
not match the line count (blank lines, two objects on one line), the chunk is bisected so only the
lines that really fail are reported. Blank lines are not records.
"""

from __future__ import annotations

import io
import re
from typing import Final, cast

import polars as pl
import pyarrow as pa
import pyarrow.json as pj

from jobs.engines.flows.bisection import bisect_lines, split_items
from jobs.engines.flows.result import BadLine
from jobs.engines.flows.source import ensure_utf8

BLOCK_BYTES: Final = 4 << 20
_ROW_SUFFIX = re.compile(r" in row \d+")
WHITESPACE: Final = b" \t\r"
_FIRST_TOKEN = re.compile(rb"[^ \t\r\n]")
_OTHER_LINE = re.compile(rb"\n[ \t\r]*[^{ \t\r\n]")


def read_json_lines(
    chunk: bytes, schema: pa.Schema, first_line: int
) -> tuple[pl.DataFrame, list[BadLine]]:
    """Parse every non-blank line of `chunk` into a row with `_line`; report lines that fail.

    Fast path: one parse of the whole chunk, trusted when it yields one row per line (so no
    blank lines) and valid UTF-8. A chunk where blank lines and two-object lines cancel out
    exactly would pass this check with shifted line numbers; real files do not do that.
    """
    newlines = chunk.count(b"\n")
    line_count = newlines + (0 if chunk.endswith(b"\n") or not chunk else 1)
    # "Every line starts with '{'" (the usual case) is two counts; otherwise the exact regex test.
    all_objects = chunk.startswith(b"{") and chunk.count(b"\n{") == newlines - chunk.endswith(b"\n")
    table, _ = _try_read(chunk, schema) if all_objects or _objects_only(chunk) else (None, "")
    if table is not None and table.num_rows == line_count and _is_utf8(table):
        lines = pl.int_range(first_line, first_line + line_count, dtype=pl.Int64, eager=True)
        return _with_lines(table, lines), []
    # Invalid UTF-8 bytes become U+FFFD so the slow path can keep those lines.
    items = split_items(ensure_utf8(chunk), first_line)
    objects = [(number, line) for number, line in items if line.lstrip(WHITESPACE).startswith(b"{")]
    kept = {number for number, _ in objects}
    bad = [BadLine(number, "not a JSON object") for number, _ in items if number not in kept]
    tables, numbers, unreadable = bisect_lines(objects, lambda data: _try_read(data, schema), _num_rows)
    bad = sorted([*bad, *unreadable], key=lambda line: line.line)
    if not tables:
        return _with_lines(schema.empty_table(), pl.Series([], dtype=pl.Int64)), bad
    return _with_lines(pa.concat_tables(tables), pl.Series(numbers, dtype=pl.Int64)), bad


def _objects_only(data: bytes) -> bool:
    """Every non-blank line starts with '{'.

    pyarrow 26's JSON reader crashes the process (SIGSEGV) when a block starts with a `null`
    document, so no line that is not an object may ever reach it.
    """
    first = _FIRST_TOKEN.search(data)
    return (first is None or data[first.start()] == ord("{")) and _OTHER_LINE.search(data) is None


def _num_rows(table: pa.Table) -> int:
    return int(table.num_rows)


def _is_utf8(table: pa.Table) -> bool:
    # pyarrow's JSON reader does not check UTF-8, and polars must never see invalid strings.
    try:
        table.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _with_lines(table: pa.Table, lines: pl.Series) -> pl.DataFrame:
    frame = cast(pl.DataFrame, pl.from_arrow(table))  # a Table always converts to a DataFrame
    return frame.with_columns(lines.alias("_line"))


def _try_read(data: bytes, schema: pa.Schema) -> tuple[pa.Table | None, str]:
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    # A block must hold the longest line; one line alone gets a block of its own size.
    block = BLOCK_BYTES if len(data) > BLOCK_BYTES else len(data) + 1
    try:
        table = pj.read_json(
            io.BytesIO(data), read_options=pj.ReadOptions(block_size=block), parse_options=options
        )
    except pa.ArrowException as exc:
        return None, "invalid JSON line: " + _ROW_SUFFIX.sub("", str(exc))[:200]
    return table, ""
