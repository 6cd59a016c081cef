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


# the file names stored when none was given: by POST /api/v1/flows without ?filename=, and by this page
UNNAMED_REST = "api-upload"
UNNAMED = (UNNAMED_REST, "upload")


def shown_time(stamp: datetime | str | None) -> str:
    """A moment as the pages show it: `2026-12-05 08:41`."""
    if stamp is None:
        return ""
    moment = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
    return moment.strftime("%Y-%m-%d %H:%M")


def size_text(size: int) -> str:
    """A byte count as people read it: 512 B, 3.4 KB, 12 MB, 1.2 GB."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 10 else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def upload_name(upload: FlowUpload) -> str:
    """The name an upload is shown by: its file's name, or for a REST push without one (stored as
    `UNNAMED_REST`) what it is: "REST upload 2026-12-05 08:41 (zeek, 12 MB)"."""
    if upload.filename and upload.filename not in UNNAMED:
        return upload.filename
    how = "REST upload" if upload.filename == UNNAMED_REST else "Upload"
    return f"{how} {shown_time(upload.created_at)} ({upload.source_format}, {size_text(upload.size_bytes)})"
