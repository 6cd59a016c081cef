"""The layout cache: one JSON file per snapshot beside the engine sidecars.

    {flow_dir}/{tenant}/layouts/{snapshot_id}.json
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from jobs.engines.graph.layout import Layout, compute_layout, covers
from jobs.engines.graph.model import Graph
from models.settings import get_settings

FORMAT_VERSION = 1


def layout_path(tenant_id: int, snapshot_id: int) -> Path:
    """Where a snapshot's layout is cached."""
    return get_settings().flow_dir / str(tenant_id) / "layouts" / f"{snapshot_id}.json"


def load_layout(tenant_id: int, snapshot_id: int) -> Layout | None:
    """The cached layout, or None when there is none (or it is of another format)."""
    try:
        raw = json.loads(layout_path(tenant_id, snapshot_id).read_text())
    except FileNotFoundError:
        return None
    if raw.get("version") != FORMAT_VERSION:
        return None
    return Layout(nodes={k: (v[0], v[1]) for k, v in raw["nodes"].items()},
                  groups={k: (v[0], v[1]) for k, v in raw["groups"].items()})


def save_layout(tenant_id: int, snapshot_id: int, layout: Layout) -> None:
    """Write the layout atomically (temp file + rename)."""
    path = layout_path(tenant_id, snapshot_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp")
    temp.write_text(json.dumps({"version": FORMAT_VERSION, "nodes": layout.nodes, "groups": layout.groups}))
    os.replace(temp, path)


def layout_for(tenant_id: int, snapshot_id: int, graph: Graph, previous_id: int | None) -> Layout:
    """The snapshot's cached layout; computed (seeded from the previous snapshot's) and cached when missing.

    A rebuilt snapshot with new nodes keeps the cached positions and places only the newcomers.
    """
    cached = load_layout(tenant_id, snapshot_id)
    if cached is not None and covers(cached, graph):
        return cached
    seed_from = cached or (load_layout(tenant_id, previous_id) if previous_id is not None else None)
    layout = compute_layout(graph, seed_from)
    save_layout(tenant_id, snapshot_id, layout)
    return layout
