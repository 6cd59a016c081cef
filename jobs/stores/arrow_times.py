"""Fast Arrow timestamp → Python datetime conversion.

`pyarrow`'s own `to_pylist()` on a timezone-aware timestamp column resolves the zone for every value
(≈ 20–40 µs each): 100,000 values cost seconds. Through epoch microseconds it is ≈ 15× faster.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_datetimes(column: pa.Array | pa.ChunkedArray) -> list[datetime | None]:
    """The values of a timestamp column as UTC-aware datetimes (None for nulls), any unit or zone."""
    micros = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()
    return [None if v is None else _EPOCH + timedelta(microseconds=v) for v in micros]
