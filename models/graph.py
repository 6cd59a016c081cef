"""Flow uploads and the per-window service graph: snapshots, nodes, edges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.types import json_column, ts_column, utcnow


class FlowUpload(SQLModel, table=True):
    __tablename__ = "flow_upload"

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    source_format: str = Field(default="auto", max_length=16)
    filename: str = Field(default="", max_length=255)
    size_bytes: int = 0
    status: str = Field(default="received", max_length=16)
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column(nullable=False))
    reason: str = Field(default="", max_length=1000)
    stored_path: str = Field(default="", max_length=500)
    created_by: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column(nullable=False))


class Snapshot(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "window_start", "window_end", name="uq_snapshot_window"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    window_start: datetime = Field(sa_column=ts_column(nullable=False, index=True))
    window_end: datetime = Field(sa_column=ts_column(nullable=False))
    source: str = Field(default="", max_length=32)
    node_count: int = 0
    edge_count: int = 0
    status: str = Field(default="building", max_length=16)
    built_at: datetime | None = Field(default=None, sa_column=ts_column())


# Node and edge rows arrive by the hundred thousand (COPY on PostgreSQL): they carry no foreign
# keys, whose per-row checks would cost more than the insert itself. replace_snapshot is their
# only writer and deletes them with their snapshot.
class Node(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_node_snapshot_key", "tenant_id", "snapshot_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int
    snapshot_id: int
    key: str = Field(max_length=300)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=16)
    namespace: str | None = Field(default=None, max_length=120)
    labels: dict[str, str] = Field(default_factory=dict, sa_column=json_column(nullable=False))


class Edge(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_edge_snapshot", "tenant_id", "snapshot_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int
    snapshot_id: int
    src: str = Field(max_length=300)
    dst: str = Field(max_length=300)
    dst_port: int | None = None
    protocol: str = Field(max_length=16)
    bytes: int = Field(default=0, sa_type=sa.BigInteger)
    packets: int = Field(default=0, sa_type=sa.BigInteger)
    flows: int = 0
    rejected: int = 0
    first_seen: datetime = Field(sa_column=ts_column(nullable=False))
    last_seen: datetime = Field(sa_column=ts_column(nullable=False))
