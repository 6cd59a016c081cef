"""Checks shared by the list queries' filters (drift events, incidents): one wording for every page and route."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from models.drift import SEVERITIES
from models.errors import Invalid

MAX_PAGE = 1000
MAX_TEXT = 200
SEVERITY_RANK = {name: len(SEVERITIES) - i for i, name in enumerate(SEVERITIES)}


def check_choice(name: str, value: str | None, allowed: Sequence[str]) -> None:
    """Refuse a filter value outside `allowed` (None means no filter)."""
    if value is not None and value not in allowed:
        raise Invalid(f"unknown {name} {value!r}: choose one of {', '.join(allowed)}")


def as_utc(name: str, moment: datetime | None) -> datetime | None:
    """A filter's moment in UTC; a moment without zone is taken as UTC, as everywhere else in SecureGuard."""
    if moment is not None and not isinstance(moment, datetime):
        raise Invalid(f"{name} must be a date and time")
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
