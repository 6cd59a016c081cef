"""The Overview timeline's period and bins (pure): which span of flow time it shows, and the open incidents per bin
and severity in it, so the bars add up to the KPIs' open count when the period is "all"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from models.drift import SEVERITIES
from models.errors import Invalid

# period key → its span back from the newest data (None: from the oldest incident)
PERIODS: dict[str, timedelta | None] = {"24h": timedelta(hours=24), "7d": timedelta(days=7),
                                         "30d": timedelta(days=30), "all": None}
PERIOD_LABELS = {"24h": "last 24 h", "7d": "last 7 days", "30d": "last 30 days", "all": "all", "custom": "custom"}
DEFAULT_PERIOD = "7d"
# (span up to, bin width): about 24–120 bars whatever the span
BINS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(days=2), timedelta(hours=1)), (timedelta(days=14), timedelta(hours=6)),
    (timedelta(days=120), timedelta(days=1)), (timedelta(days=800), timedelta(days=7)),
)
LONGEST_BIN = timedelta(days=30)
MIN_AXIS = timedelta(hours=6)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in flow time, the bin width, and what the picker shows."""

    key: str
    start: datetime
    end: datetime
    bin: timedelta

    @property
    def label(self) -> str:
        return f"{PERIOD_LABELS[self.key]}: {self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M} UTC"

    def fitted(self, starts: Iterable[datetime]) -> Period:
        """The axis of this period narrowed to where its incidents start (at least MIN_AXIS wide, widened to the
        left), with bars to match: three days of flows in a week or in four years fill the plot, not a stripe."""
        inside = [m for m in map(utc, starts) if self.start <= m < self.end]
        if not inside:
            return self
        low, high = min(inside), max(inside)
        width = bin_width(max(high - low, MIN_AXIS))
        finish = floor_to(high, width) + width
        begin = floor_to(min(low, finish - MIN_AXIS), width)
        return Period(self.key, begin, finish, width)


def utc(moment: datetime) -> datetime:
    """A stored time in UTC (naive = UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def span_text(span: timedelta) -> str:
    hours = int(span.total_seconds() // 3600)
    return f"{hours} h" if hours < 24 else f"{hours // 24} day" + ("s" if hours >= 48 else "")


def bin_width(span: timedelta) -> timedelta:
    """The bar width for a span: hours for a day or two, up to 30 days for years."""
    return next((width for limit, width in BINS if span <= limit), LONGEST_BIN)


def floor_to(moment: datetime, width: timedelta) -> datetime:
    """The start of the bin of `moment` (bins counted from the epoch, in UTC)."""
    return EPOCH + width * ((moment - EPOCH) // width)


def period_of(key: str, *, newest: datetime, oldest: datetime | None, start: datetime | None = None,
              end: datetime | None = None) -> Period:
    """The period `key` ending at the newest data (`newest`); "all" starts at `oldest`; "custom" takes
    [start, end). Invalid names a key or range that cannot be shown."""
    if key == "custom":
        if start is None or end is None or start >= end:
            raise Invalid("a custom period needs a from day before (or the same as) the to day")
        begin, finish = start, end
    elif key in PERIODS:
        span = PERIODS[key]
        finish = newest
        begin = (oldest or newest) if span is None else newest - span
    else:
        raise Invalid(f"unknown period {key[:20]!r}: choose one of {', '.join(PERIOD_LABELS)}")
    width = bin_width(max(finish - begin, timedelta(hours=1)))
    begin = floor_to(begin, width)
    # a custom end is exclusive already; a preset's newest moment must fall inside the last bar
    last = floor_to(finish, width)
    finish = last if key == "custom" and last == finish else last + width
    finish = max(finish, begin + width)
    return Period(key, begin, finish, width)


def bin_counts(rows: Iterable[tuple[datetime, str]], period: Period) -> dict[str, list[tuple[datetime, int]]]:
    """Per severity, (bin start, incidents) for the (first seen, severity) rows inside the period; bins without
    incidents left out, every severity present (an empty list when none)."""
    counts: dict[str, dict[datetime, int]] = {s: {} for s in SEVERITIES}
    for moment, severity in rows:
        moment = utc(moment)
        if period.start <= moment < period.end and severity in counts:
            key = floor_to(moment, period.bin)
            counts[severity][key] = counts[severity].get(key, 0) + 1
    return {s: sorted(bins.items()) for s, bins in counts.items()}


def total(binned: Mapping[str, list[tuple[datetime, int]]]) -> int:
    """How many incidents the bars show."""
    return sum(n for bins in binned.values() for _, n in bins)
