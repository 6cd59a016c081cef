"""Plain CSV and JSON lines of the canonical column names (what `frame.write_csv()` produces).

ts_start/ts_end are ISO 8601 (no offset means UTC) or epoch seconds. Required columns:
ts_start, src_ip, dst_ip, protocol; other canonical columns are optional and unknown extra
columns are ignored. Empty bytes/packets are 0; empty (or absent) answered/orig_bytes are null,
unknown. answered is true/false (also t/f, 1/0, yes/no in CSV). Labels must be a JSON object (as a
string); they are rewritten with sorted keys. CSV line numbers assume no quoted value spans lines.
"""

from __future__ import annotations

import csv
import json
import re
from typing import Final

import polars as pl
import pyarrow as pa

from jobs.engines.flows.bisection import bisect_lines, split_items
from jobs.engines.flows.columns import (
    Check,
    Conversion,
    cast_int,
    cast_port,
    distinct_mapping,
    map_distinct,
    mapped,
    protocol_name,
    reason,
    select_checked,
)
from jobs.engines.flows.delimited import drop_blank_rows, read_delimited
from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.finalize import finalize
from jobs.engines.flows.hubble_identity import labels_json
from jobs.engines.flows.jsonlines import read_json_lines
from jobs.engines.flows.result import BadLine, ChunkResult, empty_chunk
from jobs.engines.flows.schema import ACTIONS, CANONICAL_COLUMNS, CLUSTER_COLUMNS, CLUSTER_PATTERN
from jobs.engines.flows.source import ensure_utf8
from jobs.engines.flows.timestamps import with_timestamps

REQUIRED: Final = ("ts_start", "src_ip", "dst_ip", "protocol")
_EXTRA: Final = "__extra"
_LABELS: Final = ("src_labels", "dst_labels")
_NUMBERS: Final = ("src_port", "dst_port", "bytes", "packets", "orig_bytes")
_FLAGS: Final = {"true": True, "t": True, "1": True, "yes": True, "false": False, "f": False, "0": False, "no": False}
_NUMERIC_TS = re.compile(rb'"ts_(?:start|end)"\s*:\s*-?\d')


class CanonicalCsvParser:
    """Parses chunks of canonical CSV; the header line of the first chunk names the columns."""

    def __init__(self) -> None:
        self.columns: tuple[str, ...] | None = None

    def parse_chunk(self, chunk: bytes, first_line: int) -> ChunkResult:
        """Parse whole lines; returns canonical rows, bad lines and counts."""
        skip = 0
        if self.columns is None:
            offset, index = _header_offset(chunk)
            end = chunk.find(b"\n", offset)
            self.columns = header_columns(chunk[offset:] if end == -1 else chunk[offset:end])
            if end == -1:
                return empty_chunk()
            skip = index + 1  # the reader skips the header lines: no copy of the chunk
        rows, unreadable = _read_rows(chunk, first_line, skip, self.columns)
        return finalize(_convert(rows), unreadable)


def _read_rows(
    chunk: bytes, first_line: int, skip: int, columns: tuple[str, ...]
) -> tuple[pl.DataFrame, list[BadLine]]:
    """Rows of the chunk after its first `skip` lines, with `_line`, `_row` and `_bad`."""
    # Columns that are not canonical are read under neutral names, so no header can clash
    # with the working columns (`_line`, `_bad`, …).
    names = [name if name in CANONICAL_COLUMNS else f"__ignored_{i}" for i, name in enumerate(columns)]
    schema: dict[str, pl.DataType] = {name: pl.Utf8() for name in (*names, _EXTRA)}
    frame: pl.DataFrame | None = None
    if any(name in _NUMBERS for name in names):
        # Fast path: numbers read as numbers. Any value that is not one fails the whole read, and
        # the text read below then finds and reports it.
        frame, _ = _read_csv(chunk, {**schema, **{n: pl.Int64() for n in names if n in _NUMBERS}}, skip)
    if frame is None:
        frame, _ = _read_csv(chunk, schema, skip)
    unreadable: list[BadLine] = []
    start = first_line + skip
    if frame is None:
        items = [item for item in split_items(ensure_utf8(chunk), first_line) if item[0] >= start]
        parts, numbers, unreadable = bisect_lines(items, lambda data: _read_csv(data, schema, 0), len)
        frame = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
        lines = pl.Series(numbers, dtype=pl.Int64)
    else:
        lines = pl.int_range(start, start + frame.height, dtype=pl.Int64, eager=True)
    frame = frame.with_columns(lines.alias("_line"), (lines - start).alias("_row"))
    frame = drop_blank_rows(frame, chunk, names[0], skip, second_field=names[1] if len(names) > 1 else None)
    return frame.with_columns(
        _bad=pl.when(pl.col(_EXTRA).is_not_null()).then(pl.lit("more fields than the header"))
    ), unreadable


def header_columns(line: bytes) -> tuple[str, ...]:
    """Check a canonical CSV header line and return its column names."""
    try:
        row = next(csv.reader([line.decode("utf-8", "replace").rstrip("\r")]), [])
    except csv.Error as exc:
        raise FlowFileRejected(f"CSV header line is not valid CSV ({exc})") from exc
    names = tuple(name.strip() for name in row)
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise FlowFileRejected(f"CSV header lacks canonical columns: {', '.join(missing)}")
    if len(set(names)) != len(names):
        raise FlowFileRejected("CSV header names a column twice")
    return names


def _header_offset(chunk: bytes) -> tuple[int, int]:
    """Byte offset and 0-based line index of the first non-blank line (the header)."""
    offset = line = 0
    while offset < len(chunk) and chunk[offset : offset + 1] in b"\r\n":
        line += chunk[offset : offset + 1] == b"\n"
        offset += 1
    return offset, line


def _read_csv(data: bytes, schema: dict[str, pl.DataType], skip: int) -> tuple[pl.DataFrame | None, str]:
    try:
        frame = read_delimited(
            data, has_header=False, schema=schema, skip_lines=skip, truncate_ragged_lines=True,
            missing_columns="insert", extra_columns="ignore", raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as exc:
        return None, "unreadable CSV line: " + str(exc).split("\n", 1)[0][:200]
    return frame, ""


class CanonicalJsonParser:
    """Parses chunks of canonical JSON lines; the first line decides text or numeric times."""

    def __init__(self) -> None:
        self.numeric_ts: bool | None = None

    def parse_chunk(self, chunk: bytes, first_line: int) -> ChunkResult:
        """Parse whole lines; returns canonical rows, bad lines and counts."""
        if self.numeric_ts is None:
            first = chunk[: 1 << 16].lstrip().split(b"\n", 1)[0]
            self.numeric_ts = _NUMERIC_TS.search(first) is not None
        time_type = pa.float64() if self.numeric_ts else pa.string()
        schema = pa.schema([
            (name, time_type if name.startswith("ts_") else pa.int64() if name in _NUMBERS else
             pa.bool_() if name == "answered" else pa.string())
            for name in CANONICAL_COLUMNS
        ])
        rows, unreadable = read_json_lines(chunk, schema, first_line)
        is_object = pl.any_horizontal(pl.col(name).is_not_null() for name in CANONICAL_COLUMNS)
        text = rows.select(
            *(pl.col(name).cast(pl.Utf8) for name in CANONICAL_COLUMNS), pl.col("_line"),
            _bad=pl.when(~is_object).then(pl.lit("not a flow record (no canonical keys)")),
        )
        return finalize(_convert(text), unreadable)


def _convert(rows: pl.DataFrame) -> pl.DataFrame:
    """Canonical columns from text columns (absent optional columns are null)."""
    rows, label_checks = _normalize_labels(rows)
    times = {name: f"_{name}" for name in ("ts_start", "ts_end")}
    absent = [pl.lit(None, pl.Utf8).alias(name) for name in times if name not in rows.columns]
    rows = with_timestamps(rows.with_columns(absent), times)

    def raw(name: str) -> pl.Expr:
        return pl.col(name) if name in rows.columns else pl.lit(None, pl.Utf8).alias(name)

    def typed(name: str) -> bool:  # read as numbers by the CSV fast path
        return name in rows.columns and rows.schema[name].is_integer()

    unset = ("",)
    ts_start, ts_end = pl.col("_ts_start"), pl.col("_ts_end")
    ports = {name: cast_port(raw(name), unset, typed=typed(name)) for name in ("src_port", "dst_port")}
    counts = {name: cast_int(raw(name), pl.Int64(), unset, typed=typed(name)) for name in ("bytes", "packets")}
    orig_bytes, bad_orig_bytes = cast_int(raw("orig_bytes"), pl.Int64(), unset, typed=typed("orig_bytes"))
    answered, bad_answered = _answered(rows)
    actions = distinct_mapping(rows, "action", lambda text: text.strip().lower())
    action = mapped(rows, "action", actions)
    # Judged once per distinct value: a row check would compare every row's text.
    bad_actions = [text for text, value in actions.items() if value not in ACTIONS]
    checks: list[Check] = [
        (pl.col("_bad").is_not_null(), pl.col("_bad")),
        (ts_start.is_null(), reason("invalid ts_start", raw("ts_start"))),
        (raw("ts_end").is_not_null() & ts_end.is_null(), reason("invalid ts_end", raw("ts_end"))),
        *((raw(name).is_null(), reason(f"missing {name}")) for name in REQUIRED[1:]),
        *((bad, reason(f"invalid {name}", raw(name).cast(pl.Utf8))) for name, (_, bad) in ports.items()),
        *((bad | (value < 0), reason(f"invalid {name}", raw(name).cast(pl.Utf8)))
          for name, (value, bad) in counts.items()),
        (raw("action").is_in(bad_actions) if bad_actions else pl.lit(False), reason("invalid action", raw("action"))),
        *label_checks,
        (bad_orig_bytes | (orig_bytes < 0), reason("invalid orig_bytes", raw("orig_bytes").cast(pl.Utf8))),
        (bad_answered, reason("invalid answered", raw("answered"))),
        *((raw(name).is_not_null() & ~raw(name).str.contains(CLUSTER_PATTERN), reason(f"invalid {name}", raw(name)))
          for name in CLUSTER_COLUMNS),
    ]
    return select_checked(rows, Conversion(checks=checks, columns=[
        ts_start.alias("ts_start"), ts_end.alias("ts_end"),
        raw("src_ip").alias("src_ip"), ports["src_port"][0].alias("src_port"),
        raw("dst_ip").alias("dst_ip"), ports["dst_port"][0].alias("dst_port"),
        map_distinct(rows, "protocol", protocol_name).alias("protocol"),
        *(value.fill_null(0).alias(name) for name, (value, _) in counts.items()),
        action.alias("action"),
        *(raw(name) for name in ("src_name", "dst_name", "src_namespace", "dst_namespace")),
        *(raw(name) for name in _LABELS),
        answered.alias("answered"), orig_bytes.alias("orig_bytes"),
        *(raw(name) for name in CLUSTER_COLUMNS),
    ]))


def _answered(rows: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """(flag, invalid) for the optional text column `answered`, each distinct value read once."""
    if "answered" not in rows.columns:
        return pl.lit(None, pl.Boolean), pl.lit(False)
    mapping = {text: _FLAGS.get(text.strip().lower()) for text in rows["answered"].drop_nulls().unique().to_list()}
    invalid = [text for text, flag in mapping.items() if flag is None and text.strip()]
    known = {text: flag for text, flag in mapping.items() if flag is not None}
    flag = pl.col("answered").replace_strict(known, default=None, return_dtype=pl.Boolean)
    return flag, pl.col("answered").is_in(invalid) if invalid else pl.lit(False)


def _normalize_labels(rows: pl.DataFrame) -> tuple[pl.DataFrame, list[Check]]:
    """Rewrite label JSON with sorted keys, once per distinct value; flag values that are not."""
    checks: list[Check] = []
    for name in (n for n in _LABELS if n in rows.columns):
        mapping: dict[str, str | None] = {}
        invalid: list[str] = []
        for text in rows[name].drop_nulls().unique().to_list():
            labels = _parse_labels(text)
            if labels is None:
                invalid.append(text)
            else:
                mapping[text] = labels_json(labels)
        original = f"_raw_{name}"
        rows = rows.with_columns(
            pl.col(name).alias(original),
            pl.col(name).replace_strict(mapping, default=None, return_dtype=pl.Utf8),
        )
        checks.append((pl.col(original).is_in(invalid), reason(f"invalid {name}", pl.col(original))))
    return rows, checks


def _parse_labels(text: str) -> dict[str, str] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return None
    return value
