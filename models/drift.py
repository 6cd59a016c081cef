"""Baselines, drift events, analysts' feedback and the whitelist."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import json_column, ts_column, utcnow

EVENT_STATUSES = ("open", "acknowledged", "resolved", "false_positive", "suppressed")
# The engines' kinds and bands (models may not import jobs): drift's (jobs.engines.drift.records) and
# detection's findings (jobs.engines.detect.records `Kind`), stored as drift events of origin 'detect'.
DRIFT_KINDS = ("beacon", "traffic_spike", "new_external", "new_port", "new_edge", "new_node", "removed_edge")
DETECT_KINDS = ("scan", "brute_force", "intrusion", "beacon")
# monitor mode (jobs.tasks.monitor): a flow the approved policies of a monitored namespace would deny
MONITOR_KINDS = ("violation",)
EVENT_KINDS = (*DRIFT_KINDS, *(kind for kind in DETECT_KINDS if kind not in DRIFT_KINDS), *MONITOR_KINDS)
# who wrote an event: the drift job, the detection job (a finding) or the monitor job (a violation); each
# replaces only its own rows
EVENT_ORIGINS = ("drift", "detect", "monitor")
SEVERITIES = ("critical", "high", "medium", "low", "info")
VERDICTS = ("true_positive", "false_positive")


class Baseline(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "src", "dst", "dst_port", "protocol", name="uq_baseline_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    src: str = Field(max_length=300)
    dst: str = Field(max_length=300)
    dst_port: int | None = None
    protocol: str = Field(max_length=16)
    windows_seen: int = 0
    bytes_mean: float = 0.0
    bytes_std: float = 0.0
    flows_mean: float = 0.0
    flows_std: float = 0.0
    # [[window_start ISO, bytes, flows], …] oldest first: the source of the summary columns.
    samples: list[list[Any]] = Field(default_factory=list, sa_column=json_column(nullable=False))
    last_seen: datetime | None = Field(default=None, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))


class DriftEvent(SQLModel, table=True):
    __tablename__ = "drift_event"
    __table_args__ = (
        sa.Index("ix_drift_tenant_risk", "tenant_id", "risk"),
        sa.Index("ix_drift_tenant_snapshot", "tenant_id", "snapshot_id"),
        sa.Index("ix_drift_tenant_status", "tenant_id", "status"),
        sa.Index("ix_drift_tenant_window", "tenant_id", "window_start"),
        # one event per pattern, snapshot and origin: re-running detection updates, never duplicates
        sa.UniqueConstraint("tenant_id", "snapshot_id", "origin", "signature", name="uq_drift_snapshot_signature"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    snapshot_id: int = Field(foreign_key="snapshot.id")
    window_start: datetime = Field(sa_column=ts_column(nullable=False))
    signature: str = Field(max_length=700)
    kind: str = Field(max_length=24)
    src: str = Field(max_length=300)
    dst: str = Field(max_length=300)
    dst_port: int | None = None
    protocol: str = Field(default="", max_length=16)
    severity: str = Field(max_length=16)
    risk: int = Field(ge=0, le=100)
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column(nullable=False))
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    explanation: str = ""
    status: str = Field(default="open", max_length=16)
    status_by: str = Field(default="", max_length=254)
    status_at: datetime | None = Field(default=None, sa_column=ts_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False, index=True))
    origin: str = Field(default="drift", max_length=8, sa_column_kwargs={"server_default": "drift"})
    # a violation's policy: the approved version that would deny the flow (None for other kinds)
    policy_id: int | None = Field(default=None, foreign_key="policy.id", index=True, ondelete="SET NULL")


class Feedback(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    event_id: int = Field(foreign_key="drift_event.id", index=True)
    verdict: str = Field(max_length=16)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    note: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))


class Whitelist(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    src_pattern: str = Field(default="*", max_length=300)
    dst_pattern: str = Field(default="*", max_length=300)
    port: int | None = None
    expires_at: datetime | None = Field(default=None, sa_column=ts_column())
    reason: str = Field(default="", max_length=1000)
    author: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
