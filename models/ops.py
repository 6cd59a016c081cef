"""Operations: job runs and the audit log (integrations are in `models.notifications`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import json_column, ts_column, utcnow

JOB_STATUSES = ("queued", "running", "retrying", "succeeded", "failed", "cancelled", "lost")
FINISHED_STATUSES = frozenset({"succeeded", "failed", "cancelled", "lost"})


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    __table_args__ = (
        sa.Index("ix_job_run_tenant_enqueued", "tenant_id", "enqueued_at"),
        sa.Index("ix_job_run_tenant_status", "tenant_id", "status"),
        sa.Index("ix_job_run_tenant_name", "tenant_id", "name", "enqueued_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    arq_job_id: str = Field(max_length=200, index=True)
    name: str = Field(max_length=64)
    status: str = Field(default="queued", max_length=16)
    triggered_by: str = Field(default="", max_length=254)
    # the run this one repeats (a user's retry or the sweeper's re-queue of a lost run)
    retry_of: int | None = Field(default=None)
    # the worker process that last started it, so the sweeper can tell when that worker died
    worker_id: str = Field(default="", max_length=200)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    progress: float = 0.0
    progress_message: str = Field(default="", max_length=500)
    attempts: int = 0
    attempt_errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column(nullable=False))
    error: str = ""
    result: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    enqueued_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=ts_column())
    finished_at: datetime | None = Field(default=None, sa_column=ts_column())


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_tenant_created", "tenant_id", "created_at"),
        # an object's history (a drift event's status changes and feedback) is read by target
        sa.Index("ix_audit_tenant_target", "tenant_id", "target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    actor: str = Field(max_length=254)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=300)
    before: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    client_ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
