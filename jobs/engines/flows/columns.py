"""Vectorised column helpers shared by the parsers: casts that report what failed, times, protocols."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from jobs.engines.flows.schema import UTC_US

# IANA protocol numbers we name; any other number is kept as its decimal string.
PROTOCOL_NAMES: Final[dict[int, str]] = {
    1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp",
    51: "ah", 58: "icmp6", 89: "ospf", 103: "pim", 112: "vrrp", 132: "sctp",
}

# Flows outside [1970, 2100) are corrupt input, and Python datetimes cannot hold far-off years.
MIN_EPOCH_S: Final = 0
MAX_EPOCH_S: Final = 4_102_444_800

REASON_VALUE_CHARS: Final = 40

Check = tuple[pl.Expr, pl.Expr]


def quoted(raw: pl.Expr) -> pl.Expr:
    """The raw value, cut short and quoted, for a bad-line reason."""
    return pl.concat_str(pl.lit("'"), raw.fill_null("").str.head(REASON_VALUE_CHARS), pl.lit("'"))


def reason(text: str, raw: pl.Expr | None = None) -> pl.Expr:
    """A reason literal, optionally followed by the offending raw value."""
    if raw is None:
        return pl.lit(text)
    return pl.concat_str(pl.lit(text + " "), quoted(raw))


def first_reason(checks: Sequence[Check]) -> pl.Expr:
    """The reason of the first failing check per row, else null."""
    if not checks:
        return pl.lit(None, pl.Utf8)
    (cond, why), rest = checks[0], checks[1:]
    # polars types a then-chain as Then, then ChainedThen: one Any name keeps the loop simple.
    chain: Any = pl.when(cond).then(why)
    for cond, why in rest:
        chain = chain.when(cond).then(why)
    result: pl.Expr = chain.otherwise(pl.lit(None, pl.Utf8))
    return result


@dataclass(frozen=True, slots=True)
class Conversion:
    """How a parser turns raw rows into canonical ones: columns, record checks, skip reason."""

    columns: list[pl.Expr]
    checks: list[Check]
    skip: pl.Expr | None = None


def select_checked(rows: pl.DataFrame, conversion: Conversion) -> pl.DataFrame:
    """`rows` converted, with `_line`, `_bad` (first failing check's reason) and `_skip`.

    One lazy select, so the casts that columns and checks share are computed once. It yields
    only the index of each row's first failing check: the reason texts (string work on every
    row) are then built for the failing rows alone.
    """
    skip = conversion.skip if conversion.skip is not None else pl.lit(None, pl.Utf8)
    out = rows.lazy().select(
        *conversion.columns, pl.col("_line"),
        _first_failing(conversion.checks).alias(_CHECK), skip.cast(pl.Utf8).alias("_skip"),
    ).collect()
    failing = out[_CHECK]
    bad = pl.Series("_bad", [], dtype=pl.Utf8).extend_constant(None, out.height)
    if failing.null_count() < out.height:
        mask = failing.is_not_null()
        subset = rows.filter(mask).with_columns(failing.filter(mask).alias(_CHECK))
        index = pl.col(_CHECK)
        chain = [(index == i, why) for i, (_, why) in enumerate(conversion.checks)]
        reasons = subset.lazy().select(first_reason(chain)).collect().to_series()
        bad = bad.scatter(mask.arg_true(), reasons)
    # The reasons take the index column's place (between `_line` and `_skip`).
    return out.with_columns(bad.alias(_CHECK)).rename({_CHECK: "_bad"})


_CHECK = "__first_failing_check"


def _first_failing(checks: Sequence[Check]) -> pl.Expr:
    """Index (UInt16) of the first check that fails per row, else null: booleans only, no text."""
    if not checks:
        return pl.lit(None, pl.UInt16)
    chain: Any = pl.when(checks[0][0]).then(pl.lit(0, pl.UInt16))
    for i, (cond, _) in enumerate(checks[1:], start=1):
        chain = chain.when(cond).then(pl.lit(i, pl.UInt16))
    result: pl.Expr = chain.otherwise(pl.lit(None, pl.UInt16))
    return result


def is_unset(raw: pl.Expr, unset: Sequence[str]) -> pl.Expr:
    """True where the raw text is null/empty or one of the format's unset markers."""
    return raw.is_null() | raw.is_in(list(unset))


def cast_int(
    raw: pl.Expr, dtype: pl.DataType, unset: Sequence[str], *, typed: bool = False
) -> tuple[pl.Expr, pl.Expr]:
    """(value, invalid): value is null when unset; invalid marks text that is set but not a number.

    `typed` says the reader already produced numbers (null meaning unset), so nothing is invalid.
    """
    if typed:
        return raw.cast(dtype), pl.lit(False)
    value = raw.cast(dtype, strict=False)
    return value, ~is_unset(raw, unset) & value.is_null()


def cast_port(raw: pl.Expr, unset: Sequence[str], *, typed: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """(port, invalid) for a port column: integers in 0..65535, unset → null."""
    value = raw if typed else raw.cast(pl.Int64, strict=False)
    in_range = value.is_between(0, 65535)
    invalid = (value.is_not_null() if typed else ~is_unset(raw, unset)) & (value.is_null() | ~in_range)
    return pl.when(in_range).then(value).cast(pl.Int32, strict=False), invalid


def epoch_to_datetime(seconds: pl.Expr) -> pl.Expr:
    """Float epoch seconds → Datetime(us, UTC); null when not finite or outside [1970, 2100)."""
    ok = seconds.is_finite() & (seconds >= MIN_EPOCH_S) & (seconds < MAX_EPOCH_S)
    return pl.when(ok).then((seconds * 1_000_000).round().cast(pl.Int64, strict=False)).cast(UTC_US)


def protocol_from_number(number: pl.Expr) -> pl.Expr:
    """IANA protocol number → lowercase name, or the number as text when we have no name."""
    return number.replace_strict(
        PROTOCOL_NAMES, default=number.cast(pl.Utf8), return_dtype=pl.Utf8
    )


def protocol_name(text: str) -> str:
    """A protocol given as a name or a number → canonical lowercase name (or number text)."""
    value = text.strip().lower()
    if value.isascii() and value.isdigit():
        return PROTOCOL_NAMES.get(int(value), str(int(value)))
    return {"icmpv6": "icmp6", "ipv6-icmp": "icmp6"}.get(value, value)


def distinct_mapping(
    rows: pl.DataFrame, column: str, function: Callable[[str], str | None]
) -> dict[str, str | None]:
    """Every distinct non-null value of `column` mapped through a Python function, called once per value."""
    if column not in rows.columns:
        return {}
    return {value: function(value) for value in rows[column].drop_nulls().unique().to_list()}


def mapped(rows: pl.DataFrame, column: str, mapping: dict[str, str | None]) -> pl.Expr:
    """`column` through `mapping` (from `distinct_mapping`). When the mapping changes nothing (the usual
    case: values already canonical), the column itself, which costs nothing per row."""
    if column not in rows.columns:
        return pl.lit(None, pl.Utf8)
    if all(key == value for key, value in mapping.items()):
        return pl.col(column)
    return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.Utf8)


def lowercase(rows: pl.DataFrame, column: str) -> pl.Expr:
    """`column` in lowercase, computed once per distinct value (free when it already is)."""
    return map_distinct(rows, column, str.lower)


def map_distinct(rows: pl.DataFrame, column: str, function: Callable[[str], str | None]) -> pl.Expr:
    """`column` mapped through a Python function called once per distinct value, not per row."""
    return mapped(rows, column, distinct_mapping(rows, column, function))
