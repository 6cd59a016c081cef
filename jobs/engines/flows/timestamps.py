"""Fast, exact timestamp parsing for whole columns: ISO 8601 / RFC 3339 text or epoch seconds.

Fast path: Arrow's vectorised ISO 8601 cast, which takes a whole clean column at once.
Exact path (when any value fails that cast): polars' fast fixed `%Y-%m-%dT%H:%M:%S` parse for
the date-time part, with the fraction and offset cut out by string slices and added
arithmetically (a `%.f%#z` format is several times slower); it is staged over `with_columns`
so every intermediate is computed once, and bad values become null row by row.

Accepted: `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM|±HHMM|±HH]`, 1 to 9 fraction digits (cut to
microseconds), no offset meaning UTC; or epoch seconds. Outside [1970, 2100) → null.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Final

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from jobs.engines.flows.columns import epoch_to_datetime
from jobs.engines.flows.schema import UTC_US

MIN_EPOCH_US: Final = 0
MAX_EPOCH_US: Final = 4_102_444_800 * 1_000_000
_DIGITS: Final = "0123456789"


def with_timestamps(frame: pl.DataFrame, columns: dict[str, str], *, epoch: bool = True) -> pl.DataFrame:
    """Add a Datetime(us, UTC) column `target` parsed from each text column `source`.

    With `epoch`, a column whose values are all numbers is read as epoch seconds; otherwise
    numbers and ISO text may mix row by row.
    """
    def parse(source: str) -> pl.Series:
        return parse_timestamps(frame[source], epoch=epoch)

    # Arrow's cast and polars both release the GIL: two columns (start, end) parse side by side.
    if len(columns) > 1:
        with ThreadPoolExecutor(len(columns)) as pool:
            parsed = list(pool.map(parse, columns))
    else:
        parsed = [parse(source) for source in columns]
    return frame.with_columns(series.alias(target) for series, target in zip(parsed, columns.values(), strict=True))


def parse_timestamps(values: pl.Series, *, epoch: bool = True) -> pl.Series:
    """Datetime(us, UTC) values parsed from text; null where null, malformed or out of range."""
    text = values.cast(pl.Utf8)
    first = text.drop_nulls().head(1).to_list()
    # The first value says which whole-column fast path to try; mixed columns go row by row.
    if epoch and first and _is_number(first[0]):
        numbers = text.str.strip_chars().cast(pl.Float64, strict=False)
        if numbers.null_count() == text.null_count():
            return numbers.to_frame("n").select(epoch_to_datetime(pl.col("n")))[:, 0]
    fast = _arrow_iso(text)
    if fast is not None:
        return fast
    frame = text.to_frame("text").lazy().with_columns(pl.col("text").str.strip_chars())
    frame = frame.with_columns(
        pl.col("text").str.len_bytes().cast(pl.Int64).alias("len"), _zone_length(pl.col("text")).alias("zlen")
    )
    result = frame.select(_iso().alias("ts"))
    if epoch:
        number = pl.col("text").cast(pl.Float64, strict=False)
        result = frame.select(pl.when(number.is_not_null()).then(epoch_to_datetime(number)).otherwise(_iso()))
    return result.collect()[:, 0]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _arrow_iso(text: pl.Series) -> pl.Series | None:
    """The whole column through Arrow's ISO 8601 cast, or None when any value fails it."""
    try:
        # Nanoseconds first: Hubble writes 9 fraction digits, which a microsecond cast refuses.
        nanos = pc.cast(text.to_arrow().cast(pa.large_string()), pa.timestamp("ns", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    micros = pl.Series(nanos.cast(pa.timestamp("us", "UTC"), safe=False))
    in_range = micros.dt.epoch("us").is_between(MIN_EPOCH_US, MAX_EPOCH_US, closed="left")
    return micros.to_frame("ts").select(pl.when(in_range).then(pl.col("ts")).cast(UTC_US))[:, 0]


def _zone_length(text: pl.Expr) -> pl.Expr:
    """Length of a trailing `Z`, `±HH:MM`, `±HHMM` or `±HH` (0 when there is none)."""
    sign6 = text.str.slice(-6, 1).is_in(["+", "-"]) & (text.str.slice(-3, 1) == ":")
    sign5 = text.str.slice(-5, 1).is_in(["+", "-"])
    sign3 = text.str.slice(-3, 1).is_in(["+", "-"])
    return (
        pl.when(text.str.ends_with("Z")).then(1).when(sign6).then(6).when(sign5).then(5).when(sign3).then(3)
        .otherwise(0)
    ).cast(pl.Int64)


def _iso() -> pl.Expr:
    text, length, zlen = pl.col("text"), pl.col("len"), pl.col("zlen")
    head = text.str.head(19)
    base = pl.coalesce(
        head.str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False),
        head.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False),
    ).dt.epoch("us")
    digits = text.str.slice(20, (length - 20 - zlen).clip(lower_bound=0))
    fraction_ok = (length - zlen == 19) | (
        (text.str.slice(19, 1) == ".") & (length - zlen).is_between(21, 29) & (digits.str.strip_chars(_DIGITS) == "")
    )
    micros = digits.str.pad_end(9, "0").str.head(6).cast(pl.Int64, strict=False).fill_null(0)
    zone = text.str.tail(zlen)
    hours, minutes = zone.str.slice(1, 2), pl.when(zlen == 3).then(pl.lit("00")).otherwise(zone.str.slice(-2))
    zone_ok = (zlen <= 1) | ((hours.str.strip_chars(_DIGITS) == "") & (minutes.str.strip_chars(_DIGITS) == ""))
    offset = (hours.cast(pl.Int64, strict=False) * 60 + minutes.cast(pl.Int64, strict=False)) * 60_000_000
    signed = pl.when(zlen <= 1).then(0).when(zone.str.starts_with("-")).then(-offset).otherwise(offset)
    value = base + micros - signed
    ok = fraction_ok & zone_ok & value.is_between(MIN_EPOCH_US, MAX_EPOCH_US, closed="left")
    return pl.when(ok).then(value).cast(UTC_US)
