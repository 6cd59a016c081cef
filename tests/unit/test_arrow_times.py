from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from jobs.stores.arrow_times import utc_datetimes


def test_utc_datetimes_match_pyarrow_for_every_unit_zone_and_null() -> None:
    moments = [datetime(2024, 4, 19, 10, 0, 0, 123456, tzinfo=UTC), None, datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)]
    for unit in ("s", "ms", "us"):
        column = pa.array(moments, type=pa.timestamp("us", tz="UTC")).cast(pa.timestamp(unit, tz="UTC"), safe=False)
        assert utc_datetimes(column) == column.to_pylist()
    other_zone = pa.array(moments, type=pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us", tz="Europe/Paris"))
    converted = utc_datetimes(other_zone)
    assert converted == moments and all(m is None or m.tzinfo is UTC for m in converted)
    chunked = pa.chunked_array([pa.array(moments[:1], type=pa.timestamp("us", tz="UTC")),
                                pa.array(moments[1:], type=pa.timestamp("us", tz="UTC"))])
    assert utc_datetimes(chunked) == moments
    naive_as_utc = pa.array([datetime(2024, 1, 1) + timedelta(hours=1)], type=pa.timestamp("us"))
    assert utc_datetimes(naive_as_utc) == [datetime(2024, 1, 1, 1, tzinfo=UTC)]
