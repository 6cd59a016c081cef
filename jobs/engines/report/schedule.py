"""When a tenant's scheduled report digest is due (UTC): the period it covers and its key.

`daily` at hour H: on day D from H:00 on, the report of day D-1 [D-1 00:00, D 00:00). `weekly` at hour H: from
Monday H:00 on, the report of the ISO week before [Monday-7 00:00, Monday 00:00). Only the latest period is due,
and none whose sending time (end + H) came before the schedule was set (`since`): turning it on never sends old
reports. The key
names the period; the caller sends each (tenant, key, integration) once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MODES = ("off", "daily", "weekly")


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    mode: str = "off"
    hour: int = 8  # UTC
    since: datetime | None = None  # when it was set: periods due before are never sent

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"report digest schedule must be one of {', '.join(MODES)}, not {self.mode!r}")
        if isinstance(self.hour, bool) or not isinstance(self.hour, int) or not 0 <= self.hour <= 23:
            raise ValueError(f"report digest hour must be a whole hour 0–23 (UTC), not {self.hour!r}")

    @classmethod
    def from_setting(cls, value: Any) -> DigestSchedule:
        """From the stored tenant setting; anything unreadable is `off`."""
        if not isinstance(value, dict):
            return cls()
        try:
            since = value.get("since")
            return cls(str(value.get("mode", "off")), value.get("hour", 8),
                       datetime.fromisoformat(since) if isinstance(since, str) else None)
        except ValueError:
            return cls()

    def to_setting(self) -> dict[str, Any]:
        return {"mode": self.mode, "hour": self.hour, "since": self.since.isoformat() if self.since else None}


@dataclass(frozen=True, slots=True)
class DuePeriod:
    start: datetime
    end: datetime
    key: str  # daily:2026-12-04 | weekly:2026-W49


def due_period(schedule: DigestSchedule, now: datetime) -> DuePeriod | None:
    """The period whose digest is due at `now`, or None (off, not yet the hour, or ended before `since`)."""
    if schedule.mode == "off":
        return None
    if now.tzinfo is None:
        raise ValueError("now must carry its time zone")
    now = now.astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if schedule.mode == "daily":
        end = midnight if now >= midnight + timedelta(hours=schedule.hour) else midnight - timedelta(days=1)
        start = end - timedelta(days=1)
        key = f"daily:{start:%Y-%m-%d}"
    else:
        monday = midnight - timedelta(days=midnight.weekday())
        end = monday if now >= monday + timedelta(hours=schedule.hour) else monday - timedelta(days=7)
        start = end - timedelta(days=7)
        key = f"weekly:{start:%G-W%V}"
    if schedule.since is not None and end + timedelta(hours=schedule.hour) <= schedule.since:
        return None
    return DuePeriod(start, end, key)
