"""Integrations and their deliveries as answers show them: ids and readable settings, never a secret."""

from __future__ import annotations

from typing import Any

from models.notifications import Integration, NotificationDelivery
from models.public.base import IsoTime, PublicModel


class IntegrationPublic(PublicModel):
    """An integration; `secrets_set` names the secret fields that hold a value (their values never leave)."""

    id: int
    kind: str
    name: str
    min_severity: str
    enabled: bool
    config: dict[str, Any]
    secrets_set: list[str]
    routing: dict[str, Any]
    template: str
    created_at: IsoTime
    updated_at: IsoTime

    @classmethod
    def of(cls, row: Integration, *, secrets_set: list[str]) -> IntegrationPublic:
        return cls(
            id=int(row.id or 0),
            kind=row.kind,
            name=row.name,
            min_severity=row.min_severity,
            enabled=row.enabled,
            config=dict(row.config),
            secrets_set=sorted(secrets_set),
            routing=dict(row.routing),
            template=row.template,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class IntegrationCreated(IntegrationPublic):
    """The answer to a create: a generated webhook signing secret is shown here once, and never again."""

    signing_secret: str | None = None


class DeliveryPublic(PublicModel):
    """One message to an integration and what became of it."""

    id: int
    integration_id: int
    incident_id: int | None
    kind: str
    status: str
    attempts: int
    next_attempt_at: IsoTime
    last_error: str
    latency_ms: int | None
    external_ref: str
    created_at: IsoTime
    sent_at: IsoTime | None

    @classmethod
    def of(cls, row: NotificationDelivery) -> DeliveryPublic:
        return cls(
            id=int(row.id or 0),
            integration_id=row.integration_id,
            incident_id=row.incident_id,
            kind=row.kind,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            latency_ms=row.latency_ms,
            external_ref=row.external_ref,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )
