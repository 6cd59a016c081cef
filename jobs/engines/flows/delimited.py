"""Reading delimited text (Zeek TSV, VPC, CSV) with polars, and dropping blank lines.

Blank lines (only spaces, tabs, CR, vertical tabs and form feeds) are not records, in every format.
Delimited readers give no line text back, so a cheap vectorised test on the first field finds the few rows that might
be blank, and only those are checked against the raw bytes.
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl

WHITESPACE: Final = b" \t\r\x0b\x0c"


def read_delimited(data: bytes, **options: Any) -> pl.DataFrame:
    """`pl.read_csv` that replaces invalid UTF-8 with U+FFFD instead of failing.

    Strict UTF-8 is tried first because lossy decoding makes polars' reader much slower.
    """
    try:
        return pl.read_csv(data, encoding="utf8", **options)
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc):
            raise
    return pl.read_csv(data, encoding="utf8-lossy", **options)


def drop_blank_rows(
    rows: pl.DataFrame, data: bytes, first_field: str, line_offset: int = 0, *, second_field: str | None = None
) -> pl.DataFrame:
    """Drop rows whose line in `data` is blank.

    `rows` carries `_row`, the 0-based line index of each row counted from line `line_offset`.
    A blank line leaves every field after the first null, so when `second_field` (any later
    field) holds no null at all, there is nothing to look for: the usual case costs nothing.
    """
    if second_field is not None and rows[second_field].null_count() == 0:
        return rows
    first = pl.col(first_field)
    candidate = first.is_null()
    # A typed (numeric) first field cannot hold whitespace; in a text one, a blank line's first
    # field starts with whitespace (prefix tests are much cheaper than a regex per row).
    if rows.schema[first_field] == pl.Utf8:
        candidate = candidate | pl.any_horizontal(first.str.starts_with(chr(char)) for char in WHITESPACE)
    # The mask alone first: filtering the whole frame costs more, and almost always finds nothing.
    mask = rows.select(candidate.alias("_maybe_blank")).to_series()
    if not mask.any():
        return rows
    lines = data.split(b"\n")
    blank = [
        i for i in rows["_row"].filter(mask).to_list()
        if i + line_offset < len(lines) and not lines[i + line_offset].strip(WHITESPACE)
    ]
    return rows.filter(~pl.col("_row").is_in(blank)) if blank else rows
