"""Uploads, snapshots and a snapshot's graph as answers and live events show them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.graph import Edge, FlowUpload, Node, Snapshot
from models.public.base import IsoTime, PublicModel


class SnapshotPublic(PublicModel):
    """A snapshot (docs/architecture.md, "REST"): its window, sizes and state."""

    id: int
    window_start: IsoTime
    window_end: IsoTime
    nodes: int
    edges: int
    status: str
    source: str
    built_at: IsoTime | None

    @classmethod
    def of(cls, row: Snapshot) -> SnapshotPublic:
        """The public view of a stored snapshot."""
        return cls(id=row.id, window_start=row.window_start, window_end=row.window_end, nodes=row.node_count,
                   edges=row.edge_count, status=row.status, source=row.source, built_at=row.built_at)


class UploadPublic(PublicModel):
    """A flow upload and its parse outcome (docs/architecture.md, "REST")."""

    id: int
    status: str
    format: str
    filename: str
    size_bytes: int
    rows_accepted: int
    rows_rejected: int
    rows_skipped: int
    errors: list[dict[str, Any]]
    reason: str
    created_at: IsoTime

    @classmethod
    def of(cls, row: FlowUpload) -> UploadPublic:
        """The public view of a stored upload."""
        return cls(id=row.id, status=row.status, format=row.source_format, filename=row.filename,
                   size_bytes=row.size_bytes, rows_accepted=row.rows_accepted, rows_rejected=row.rows_rejected,
                   rows_skipped=row.rows_skipped, errors=row.errors, reason=row.reason, created_at=row.created_at)


class NodePublic(PublicModel):
    """A node of a snapshot's graph; `id` is its key."""

    id: str
    name: str
    kind: str
    namespace: str | None
    labels: dict[str, str]


class EdgePublic(PublicModel):
    """An edge of a snapshot's graph, its traffic summed over the window."""

    src: str
    dst: str
    dst_port: int | None
    protocol: str
    bytes: int
    packets: int
    flows: int


class GraphPublic(PublicModel):
    """A snapshot's nodes and edges."""

    nodes: list[NodePublic]
    edges: list[EdgePublic]

    @classmethod
    def of(cls, nodes: Sequence[Node], edges: Sequence[Edge]) -> GraphPublic:
        """The public view of a snapshot's stored nodes and edges."""
        return cls(
            nodes=[NodePublic(id=n.key, name=n.name, kind=n.kind, namespace=n.namespace, labels=n.labels)
                   for n in nodes],
            edges=[EdgePublic(src=e.src, dst=e.dst, dst_port=e.dst_port, protocol=e.protocol, bytes=e.bytes,
                              packets=e.packets, flows=e.flows) for e in edges],
        )
