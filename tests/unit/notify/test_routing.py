"""Routing: minimum severity, kinds and namespaces in and out, quiet hours in the tenant's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.engines.notify.routing import Route
from tests.unit.notify.builders import notice


def test_min_severity_includes_and_excludes() -> None:
    route = Route.from_config(
        {"kinds": {"exclude": ["beacon"]}, "namespaces": {"include": ["payments", "web"]}}, min_severity="medium"
    )
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert route.decide(notice(), now).send
    low = route.decide(notice(severity="low"), now)
    assert not low.send and "below the minimum medium" in low.reason
    assert not route.decide(notice(incident_kind="beacon"), now).send
    other = route.decide(notice(namespace="batch"), now)
    assert not other.send and "batch" in other.reason
    assert route.decide(notice(severity="info", kind="test"), now).send


def test_exclude_namespace_and_include_kinds() -> None:
    route = Route.from_config({"kinds": {"include": ["scan"]}, "namespaces": {"exclude": ["dev"]}}, min_severity="info")
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert not route.decide(notice(namespace="dev"), now).send
    assert not route.decide(notice(incident_kind="new_peer"), now).send
    assert route.decide(notice(namespace=""), now).send


def test_quiet_hours_across_midnight_in_the_tenant_zone_hold_until_morning() -> None:
    route = Route.from_config(
        {"quiet_hours": {"start": "22:00", "end": "07:00"}, "timezone": "Europe/Paris"}, min_severity="info"
    )
    # 22:30 UTC is 23:30 in Paris (winter, UTC+1): quiet until 07:00 Paris = 06:00 UTC next day
    held = route.decide(notice(), datetime(2026, 12, 5, 22, 30, tzinfo=UTC))
    assert held.send and held.not_before == datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
    # 05:30 UTC is 06:30 Paris: still quiet, same morning
    assert route.decide(notice(), datetime(2026, 12, 6, 5, 30, tzinfo=UTC)).not_before == datetime(
        2026, 12, 6, 6, 0, tzinfo=UTC
    )
    assert route.decide(notice(), datetime(2026, 12, 6, 6, 0, tzinfo=UTC)).not_before is None
    assert route.decide(notice(severity="critical"), datetime(2026, 12, 5, 22, 30, tzinfo=UTC)).not_before is None


def test_daytime_quiet_hours_in_utc() -> None:
    route = Route.from_config(
        {"quiet_hours": {"start": "12:00", "end": "13:00", "bypass": "high"}}, min_severity="info"
    )
    assert route.decide(notice(severity="medium"), datetime(2026, 12, 5, 12, 10, tzinfo=UTC)).not_before == datetime(
        2026, 12, 5, 13, tzinfo=UTC
    )
    assert route.decide(notice(severity="high"), datetime(2026, 12, 5, 12, 10, tzinfo=UTC)).not_before is None
    assert route.decide(notice(severity="medium"), datetime(2026, 12, 5, 13, 0, tzinfo=UTC)).not_before is None


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"quiet_hours": {"start": "22:00"}}, "both a start and an end"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "time of day"),
        ({"quiet_hours": {"start": "07:00", "end": "07:00"}}, "same time"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"kinds": {"include": "scan"}}, "list of names"),
    ],
)
def test_bad_routing_is_refused_with_a_reason(routing: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Route.from_config(routing, min_severity="info")
    with pytest.raises(ValueError, match="min_severity"):
        Route(min_severity="urgent")
