"""Baseline ⇄ JSON-safe rows, for the `baseline` table or a JSON document.

Every row has `row_type`:

- `meta`: `window_count`, `windows` (ISO-8601 UTC window starts, oldest first);
- `edge`: `src, dst, dst_port, protocol, windows_seen, bytes_mean, bytes_std, flows_mean,
  flows_std, last_seen` (the table's summary columns, derived) and `samples`:
  `[[window_iso, bytes, flows], …]` (the source of truth);
- `node`: `key, name, kind, namespace, labels, windows`.

Rows of type `pair` (connection timing, written while drift still looked for beacons) are read and
ignored, so older documents still load.

Values are str/int/float/None/list/dict only, so `json.dumps` works on every row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from jobs.engines.drift.baseline import (
    Baseline,
    EdgeBaseline,
    EdgeKey,
    EdgeSample,
    NodeBaseline,
    aware,
    epoch,
)
from jobs.engines.snapshot.types import NodeKind


class BaselineRowError(ValueError):
    """A row handed to `baseline_from_rows` is not one that `baseline_to_rows` writes."""


def baseline_to_rows(baseline: Baseline) -> list[dict[str, Any]]:
    """Serialise a baseline; rows come out in a deterministic order."""
    rows: list[dict[str, Any]] = [
        {"row_type": "meta", "window_count": baseline.window_count, "windows": _isos(baseline.windows)}
    ]
    rows += [_node_row(baseline.nodes[key]) for key in sorted(baseline.nodes)]
    rows += baseline_edge_rows(baseline)
    return rows


def baseline_edge_rows(baseline: Baseline) -> list[dict[str, Any]]:
    """Only the `edge` rows of `baseline_to_rows` (what the `baseline` table stores), in the same order."""
    return [_edge_row(baseline.edges[key]) for key in sorted(baseline.edges, key=_edge_sort)]


def baseline_from_rows(rows: Iterable[Mapping[str, Any]]) -> Baseline:
    """Rebuild a baseline from `baseline_to_rows` output (any row order); `BaselineRowError` on an unknown row type
    or no meta row."""
    meta: Mapping[str, Any] | None = None
    edges: dict[EdgeKey, EdgeBaseline] = {}
    nodes: dict[str, NodeBaseline] = {}
    for row in rows:
        row_type = row.get("row_type")
        if row_type == "meta":
            meta = row
        elif row_type == "edge":
            edge = _edge_from(row)
            edges[edge.key] = edge
        elif row_type == "node":
            nodes[row["key"]] = _node_from(row)
        elif row_type == "pair":
            continue  # beacon timing of older documents: detection keeps its own now
        else:
            raise BaselineRowError(f"unknown baseline row_type {row_type!r}")
    if meta is None:
        raise BaselineRowError("baseline rows lack the meta row")
    windows = tuple(_epoch(text) for text in meta["windows"])
    return Baseline(int(meta["window_count"]), windows, edges, nodes)


def _edge_row(edge: EdgeBaseline) -> dict[str, Any]:
    volume, flows = edge.bytes_stats, edge.flows_stats
    return {
        "row_type": "edge",
        "src": edge.src,
        "dst": edge.dst,
        "dst_port": edge.dst_port,
        "protocol": edge.protocol,
        "windows_seen": edge.windows_seen,
        "bytes_mean": volume.mean,
        "bytes_std": volume.std,
        "flows_mean": flows.mean,
        "flows_std": flows.std,
        "last_seen": _iso_dt(edge.last_seen),
        "samples": [[_iso(s.window), s.bytes, s.flows] for s in edge.samples],
    }


def _edge_from(row: Mapping[str, Any]) -> EdgeBaseline:
    samples = tuple(EdgeSample(_epoch(w), int(b), int(f)) for w, b, f in row["samples"])
    port = row["dst_port"]
    last_seen = aware(datetime.fromisoformat(row["last_seen"]))
    return EdgeBaseline(
        row["src"], row["dst"], None if port is None else int(port), row["protocol"], samples, last_seen
    )


def _node_row(node: NodeBaseline) -> dict[str, Any]:
    return {
        "row_type": "node",
        "key": node.key,
        "name": node.name,
        "kind": node.kind,
        "namespace": node.namespace,
        "labels": dict(node.labels),
        "windows": _isos(node.windows),
    }


def _node_from(row: Mapping[str, Any]) -> NodeBaseline:
    windows = tuple(_epoch(w) for w in row["windows"])
    kind = cast(NodeKind, row["kind"])
    return NodeBaseline(row["key"], row["name"], kind, row["namespace"], dict(row["labels"]), windows)


def _edge_sort(key: EdgeKey) -> tuple[str, str, int, str]:
    return (key[0], key[1], -1 if key[2] is None else key[2], key[3])


@functools.lru_cache(maxsize=4096)
def _iso(seconds: float) -> str:
    # Window starts repeat across every entry of a baseline: format each once.
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()


def _isos(windows: Iterable[float]) -> list[str]:
    return [_iso(w) for w in windows]


def _iso_dt(moment: datetime) -> str:
    return aware(moment).isoformat()


def _epoch(text: str) -> float:
    return epoch(datetime.fromisoformat(text))
