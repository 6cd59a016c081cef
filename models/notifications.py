"""Notifications: a tenant's integrations (Slack, Jira, syslog, Splunk HEC, signed webhook) and the outbox of
deliveries to them.

`Integration.config` holds the settings one may read back (host, port, project…); the secrets (Slack's webhook URL,
tokens, the webhook's signing secret) are sealed together as JSON in `config_encrypted` (`models.secretbox`), are
write-only and never leave the server. `routing` is the JSON that `jobs.engines.notify.routing.Route.from_config`
reads; `template` an optional Jinja2 message template.

`NotificationDelivery` is the outbox: a row is written in the same transaction as the incident change it announces
(`models.queries.notifications.enqueue_incident_notices`), so nothing is lost between the two; its unique
`idempotency_key` makes every enqueue and every send happen once. The drain (`jobs.tasks.notify`) moves a row
pending → sent | failed (a permanent answer) | dead (out of tries) | skipped (routing said no, with the reason).
A `report` row is a scheduled report's digest: no incident, its message in `payload`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import json_column, ts_column, utcnow

INTEGRATION_KINDS = ("slack", "jira", "syslog", "splunk_hec", "webhook")
DELIVERY_KINDS = ("new", "update", "digest", "test", "report")
DELIVERY_STATUSES = ("pending", "sent", "failed", "dead", "skipped")
OPEN_STATUSES = ("pending",)
MAX_ERROR = 2000


class Integration(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name", name="uq_integration_tenant_name"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    kind: str = Field(max_length=24)
    name: str = Field(default="", max_length=80)
    config_encrypted: str = ""
    min_severity: str = Field(default="high", max_length=16)
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    config: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    routing: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    template: str = Field(default="", sa_type=sa.Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    # when the drain last sent to it: the per-integration rate limit spaces messages from here
    last_sent_at: datetime | None = Field(default=None, sa_column=ts_column())


class NotificationDelivery(SQLModel, table=True):
    """One message to one integration: an incident's first notice, an update, a digest, or a test."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        sa.UniqueConstraint("idempotency_key", name="uq_notification_delivery_key"),
        sa.Index("ix_notification_delivery_due", "integration_id", "status", "next_attempt_at"),
        sa.Index("ix_notification_delivery_tenant_created", "tenant_id", "integration_id", "created_at"),
        sa.Index("ix_notification_delivery_incident", "integration_id", "incident_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    integration_id: int = Field(foreign_key="integration.id", ondelete="CASCADE")
    # a delivery outlives its incident (the record of what was said stays)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", ondelete="SET NULL")
    idempotency_key: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    status: str = Field(default="pending", max_length=16)
    # what the notice said when queued: an update is queued only when these grow
    severity: str = Field(default="info", max_length=16)
    events: int = Field(default=0, sa_type=sa.BigInteger)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    last_error: str = Field(default="", max_length=MAX_ERROR)
    latency_ms: int | None = None
    external_ref: str = Field(default="", max_length=200)  # e.g. the Jira issue key
    digest_id: int | None = Field(default=None)  # the digest delivery that carried this one
    # a scheduled report's message (`jobs.tasks.report_digest`): title, summary lines, link, period
    payload: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=ts_column())
