"""The layout cache: one JSON file per snapshot beside the engine sidecars.

    flows/{tenant}/layouts/{snapshot_id}.json    (a key of `jobs.stores.objects`)
"""

from __future__ import annotations

import json
from pathlib import Path

from jobs.engines.graph.layout import Layout, compute_layout, covers
from jobs.engines.graph.model import Graph
from jobs.stores.keys import tenant_key
from jobs.stores.objects import get_store

FORMAT_VERSION = 1


def layout_key(tenant_id: int, snapshot_id: int) -> str:
    """The key of a snapshot's cached layout."""
    if isinstance(snapshot_id, bool) or not isinstance(snapshot_id, int):
        raise ValueError(f"snapshot_id must be an integer, got {snapshot_id!r}")
    return tenant_key("flows", tenant_id, "layouts", f"{snapshot_id}.json")


def layout_path(tenant_id: int, snapshot_id: int) -> Path | None:
    """Where a snapshot's layout is cached in a local store (None in a remote one)."""
    return get_store().local_path(layout_key(tenant_id, snapshot_id))


def load_layout(tenant_id: int, snapshot_id: int) -> Layout | None:
    """The cached layout, or None when there is none (or it is of another format)."""
    try:
        raw = json.loads(get_store().get_bytes(layout_key(tenant_id, snapshot_id)))
    except FileNotFoundError:
        return None
    if raw.get("version") != FORMAT_VERSION:
        return None
    return Layout(nodes={k: (v[0], v[1]) for k, v in raw["nodes"].items()},
                  groups={k: (v[0], v[1]) for k, v in raw["groups"].items()})


def save_layout(tenant_id: int, snapshot_id: int, layout: Layout) -> None:
    """Write the layout atomically (temp file + rename, or one PUT)."""
    document = {"version": FORMAT_VERSION, "nodes": layout.nodes, "groups": layout.groups}
    get_store().put_bytes(layout_key(tenant_id, snapshot_id), json.dumps(document).encode())


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
