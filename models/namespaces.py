"""Each namespace's policy mode (issue 19 Part B): learn → monitor → enforce, set by an approver."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import ts_column, utcnow

NAMESPACE_MODES = ("learn", "monitor", "enforce")
# single-cluster data (every flow source today) lives in this cluster
DEFAULT_CLUSTER = "default"


class NamespaceMode(SQLModel, table=True):
    """A namespace's mode; a namespace without a row is in `learn`."""

    __tablename__ = "namespace_mode"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "cluster", "namespace", name="uq_namespace_mode_key"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    cluster: str = Field(default=DEFAULT_CLUSTER, max_length=63)
    namespace: str = Field(max_length=63)
    mode: str = Field(default="learn", max_length=16)
    reason: str = Field(default="", max_length=1000)
    changed_by: str = Field(default="", max_length=254)
    changed_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))
    # when the namespace last entered monitor (kept through enforce; cleared by learn)
    monitor_since: datetime | None = Field(default=None, sa_column=ts_column())
