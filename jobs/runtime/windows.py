"""Validated date ranges → the aligned windows inside them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.stores.flows import align
from models.errors import Invalid

MAX_RANGE = timedelta(days=31)


class BadRange(Invalid):
    """A date or range a user gave that cannot be used; the message says why."""

    code = "invalid_range"


def parse_moment(text: str, field: str) -> datetime:
    """An ISO 8601 date or datetime; a value without zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError) as exc:
        raise BadRange(f"{field} {text!r} is not an ISO 8601 date, e.g. 2024-04-19T00:00:00Z") from exc
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def windows_between(start: datetime, end: datetime, *, window_seconds: int, now: datetime) -> list[datetime]:
    """Window starts covering [start, end); start < end, end not in the future, at most 31 days."""
    if start >= end:
        raise BadRange("window_start must be before window_end")
    if end > now + timedelta(seconds=1):
        raise BadRange("window_end is in the future")
    if end - start > MAX_RANGE:
        raise BadRange(f"the range is {(end - start).days} days; at most 31 days at once")
    first = align(start, window_seconds)
    count = -(-int((end - first).total_seconds()) // window_seconds)
    return [first + timedelta(seconds=i * window_seconds) for i in range(count)]
