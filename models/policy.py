"""Generated NetworkPolicies, their reviews, and the GitOps side."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import json_column, ts_column, utcnow

POLICY_STATUSES = ("draft", "pending", "approved", "rejected", "superseded", "deployed")


class Policy(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_policy_tenant_status", "tenant_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    name: str = Field(max_length=253)
    namespace: str = Field(max_length=63)
    # the Kubernetes cluster the policy is for (issue 19 A4); single-cluster data is in "default"
    cluster: str = Field(default="default", max_length=63, sa_column_kwargs={"server_default": "default"})
    target: str = Field(default="", max_length=300)
    yaml: str = ""
    notes: list[str] = Field(default_factory=list, sa_column=json_column(nullable=False))
    snapshot_ids: list[int] = Field(default_factory=list, sa_column=json_column(nullable=False))
    verification: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))
    status: str = Field(default="draft", max_length=16)
    version: int = 1
    submitted_by: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))


class PolicyReview(SQLModel, table=True):
    __tablename__ = "policy_review"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    policy_id: int = Field(foreign_key="policy.id", index=True)
    reviewer: str = Field(max_length=254)
    decision: str = Field(max_length=16)
    reason: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))


class GitopsConfig(SQLModel, table=True):
    __tablename__ = "gitops_config"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", sa_column_kwargs={"unique": True})
    provider: str = Field(default="github", max_length=16)
    repo_url: str = Field(default="", max_length=500)
    base_branch: str = Field(default="main", max_length=120)
    folder: str = Field(default="networkpolicies", max_length=255)
    token_encrypted: str = ""
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))


class PullRequest(SQLModel, table=True):
    __tablename__ = "pull_request"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    policy_id: int = Field(foreign_key="policy.id", index=True)
    url: str = Field(default="", max_length=500)
    number: int | None = None
    branch: str = Field(default="", max_length=255)
    state: str = Field(default="open", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
