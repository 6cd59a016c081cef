"""Namespaces with their mode and readiness, as `GET /api/v1/namespaces` and the Readiness page show them."""

from __future__ import annotations

from models.public.base import IsoTime, PublicModel
from models.queries.namespaces import NamespaceStatus, ReadinessRule


class ReadinessPublic(PublicModel):
    """Whether the namespace may be enforced under the tenant's rule, and the figures behind it."""

    ready: bool
    not_ready_because: str
    days_in_monitor: float
    required_days: int
    open_violations: int
    max_open_violations: int
    blocked_flows: int  # flows the policies would have blocked over the last `windows` windows
    windows: int


class NamespacePublic(PublicModel):
    cluster: str
    namespace: str
    mode: str
    reason: str
    changed_by: str
    changed_at: IsoTime | None
    monitor_since: IsoTime | None
    readiness: ReadinessPublic

    @classmethod
    def of(cls, status: NamespaceStatus, rule: ReadinessRule) -> NamespacePublic:
        s = status
        readiness = ReadinessPublic(
            ready=s.ready,
            not_ready_because=s.not_ready_because,
            days_in_monitor=s.days_in_monitor,
            required_days=rule.days,
            open_violations=s.open_violations,
            max_open_violations=rule.max_open,
            blocked_flows=s.blocked_flows,
            windows=s.windows,
        )
        return cls(
            cluster=s.cluster,
            namespace=s.namespace,
            mode=s.mode,
            reason=s.reason,
            changed_by=s.changed_by,
            changed_at=s.changed_at,
            monitor_since=s.monitor_since,
            readiness=readiness,
        )
