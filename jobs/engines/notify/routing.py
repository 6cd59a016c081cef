"""Which incidents an integration is told about, and when: minimum severity, kinds and namespaces, quiet hours.

Quiet hours hold a notice until they end (it is never dropped); severities at or above `quiet_bypass` go at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobs.engines.notify.notice import SEVERITY_RANK, Notice


@dataclass(frozen=True, slots=True)
class Decision:
    """Send now, hold until `not_before`, or skip (with the reason)."""

    send: bool
    reason: str
    not_before: datetime | None = None


def _clock(value: str, name: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a time of day like 22:00, not {value!r}") from None


def _names(value: Any, name: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"{name} must be a list of names")
    return frozenset(value)


@dataclass(frozen=True, slots=True)
class Route:
    """An integration's routing rules; empty include sets mean 'all'."""

    min_severity: str = "info"
    include_kinds: frozenset[str] = frozenset()
    exclude_kinds: frozenset[str] = frozenset()
    include_namespaces: frozenset[str] = frozenset()
    exclude_namespaces: frozenset[str] = frozenset()
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = "UTC"
    quiet_bypass: str = "critical"

    def __post_init__(self) -> None:
        for name in ("min_severity", "quiet_bypass"):
            if getattr(self, name) not in SEVERITY_RANK:
                raise ValueError(f"{name} must be one of {', '.join(SEVERITY_RANK)}, not {getattr(self, name)!r}")
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet hours need both a start and an end")
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValueError("quiet hours must not start and end at the same time")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None

    @classmethod
    def from_config(cls, routing: Mapping[str, Any], *, min_severity: str, timezone: str = "UTC") -> Route:
        """From the stored JSON: `{"kinds": {"include": [], "exclude": []}, "namespaces": {…},
        "quiet_hours": {"start": "22:00", "end": "07:00", "bypass": "critical"}, "timezone": "Europe/Paris"}`."""
        kinds, spaces = routing.get("kinds") or {}, routing.get("namespaces") or {}
        quiet = routing.get("quiet_hours") or {}
        return cls(
            min_severity=min_severity,
            include_kinds=_names(kinds.get("include"), "kinds.include"),
            exclude_kinds=_names(kinds.get("exclude"), "kinds.exclude"),
            include_namespaces=_names(spaces.get("include"), "namespaces.include"),
            exclude_namespaces=_names(spaces.get("exclude"), "namespaces.exclude"),
            quiet_start=_clock(quiet["start"], "quiet_hours.start") if quiet.get("start") else None,
            quiet_end=_clock(quiet["end"], "quiet_hours.end") if quiet.get("end") else None,
            timezone=str(routing.get("timezone") or timezone),
            quiet_bypass=str(quiet.get("bypass") or "critical"),
        )

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet hours `now` falls in (in UTC), or None when it is not quiet."""
        if self.quiet_start is None or self.quiet_end is None:
            return None
        local = now.astimezone(ZoneInfo(self.timezone))
        clock = local.time().replace(tzinfo=None)
        start, end = self.quiet_start, self.quiet_end
        inside = start <= clock < end if start < end else (clock >= start or clock < end)
        if not inside:
            return None
        day = local.date() if clock < end else local.date() + timedelta(days=1)
        wake = datetime.combine(day, end, tzinfo=ZoneInfo(self.timezone))
        return wake.astimezone(now.tzinfo)

    def decide(self, notice: Notice, now: datetime) -> Decision:
        """Whether `notice` goes to this integration now, later, or not at all (with the reason)."""
        if notice.kind == "test":
            return Decision(True, "test message")
        if notice.kind == "report":
            return Decision(True, "scheduled report")
        if SEVERITY_RANK[notice.severity] < SEVERITY_RANK[self.min_severity]:
            return Decision(False, f"severity {notice.severity} is below the minimum {self.min_severity}")
        if self.include_kinds and notice.incident_kind not in self.include_kinds:
            return Decision(False, f"kind {notice.incident_kind} is not among the included kinds")
        if notice.incident_kind in self.exclude_kinds:
            return Decision(False, f"kind {notice.incident_kind} is excluded")
        spaces = notice.spaces
        if self.include_namespaces and not spaces & self.include_namespaces:
            shown = ", ".join(sorted(spaces)) or "(none)"
            return Decision(False, f"namespace {shown} is not among the included namespaces")
        if spaces and spaces <= self.exclude_namespaces:
            return Decision(False, f"namespace {', '.join(sorted(spaces))} is excluded")
        wake = self.quiet_until(now)
        if wake is not None and SEVERITY_RANK[notice.severity] < SEVERITY_RANK[self.quiet_bypass]:
            return Decision(True, "held for the end of quiet hours", not_before=wake)
        return Decision(True, "routed")
