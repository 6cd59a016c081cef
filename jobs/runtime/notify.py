"""Hand-off of drift events to notifications (Slack, Jira, SIEM… arrive with integrations)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NOTIFY_SEVERITIES = frozenset({"high", "critical"})


async def notify_high_severity(
    ctx: dict[str, Any], *, tenant_id: int, snapshot_id: int, events: Sequence[Mapping[str, Any]]
) -> int:
    """Called by `detect_drift` with the new open high and critical events of one snapshot.

    No integration exists yet, so nothing is sent; `send_notifications` jobs will be queued from
    here (per event and integration, filtered by each integration's minimum severity).
    Returns how many events were handed on.
    """
    return 0
