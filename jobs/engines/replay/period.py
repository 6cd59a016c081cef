"""The period a replay shows and how it travels in the URL (`?from=…&to=…&frame=…&source=…`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

MOMENT_FORMAT = "%Y-%m-%dT%H:%M"
DEFAULT_SPAN = timedelta(days=7)
MAX_SPAN = timedelta(days=31)
SPEEDS = (1, 2, 4, 8)
# one frame a second at 1×
FRAME_MS = 1000


class BadPeriod(ValueError):
    """A period the analyst typed or linked that cannot be shown; the message says why."""


@dataclass(frozen=True, slots=True)
class Period:
    """`[start, end)` in UTC."""

    start: datetime
    end: datetime

    def text(self) -> tuple[str, str]:
        """Start and end as the form and the URL write them."""
        return self.start.strftime(MOMENT_FORMAT), self.end.strftime(MOMENT_FORMAT)


def parse_moment(text: str, field: str) -> datetime:
    """`2026-11-30T14:00`, `2026-11-30 14:00` or `2026-11-30` (UTC) as a datetime."""
    cleaned = text.strip().replace(" ", "T").removesuffix("Z")
    for pattern in (MOMENT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(cleaned, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise BadPeriod(f"{field} {text.strip()!r} is not a date: write it as YYYY-MM-DD HH:MM (UTC)")


def choose_period(start_text: str, end_text: str, newest_end: datetime, oldest_start: datetime | None = None) -> Period:
    """The period from the typed or linked ends; a missing end is the newest window's end, a missing start
    DEFAULT_SPAN before the end (not before the oldest window). Raises BadPeriod for an unreadable, empty or too
    long period."""
    end = parse_moment(end_text, "To") if end_text.strip() else newest_end
    start = parse_moment(start_text, "From") if start_text.strip() else end - DEFAULT_SPAN
    if not start_text.strip() and oldest_start is not None and oldest_start < end:
        start = max(start, oldest_start)
    if start >= end:
        raise BadPeriod("From must lie before To")
    if end - start > MAX_SPAN:
        raise BadPeriod(f"the period may span at most {MAX_SPAN.days} days")
    return Period(start, end)


def frame_from(text: str, count: int, default: int = 1) -> int:
    """A 1-based frame from the URL, kept inside `1..count` (0 when there are no frames)."""
    if count <= 0:
        return 0
    number = int(text) if text.strip().isdigit() else default
    return min(max(number, 1), count)


def share_query(period: Period, frame: int, source: str) -> str:
    """`?from=…&to=…&frame=…` (and `source=` when one is chosen) for the address bar."""
    start, end = period.text()
    params: dict[str, str | int] = {"from": start, "to": end, "frame": frame}
    if source:
        params["source"] = source
    return "?" + urlencode(params)
