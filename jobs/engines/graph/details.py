"""The details panel of one node: identity, home or outside (with the peer's autonomous system, organisation
and country), labels, in/out edges with volumes, first/last seen, drift events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jobs.engines.graph.model import Graph, group_label
from jobs.engines.snapshot.types import EdgeRecord

MAX_EDGES_LISTED = 50


def _edge_row(edge: EdgeRecord, other: str) -> dict[str, str]:
    port = f":{edge.dst_port}" if edge.dst_port is not None else ""
    return {"peer": other, "service": f"{port.lstrip(':') or '—'}/{edge.protocol}", "bytes": f"{edge.bytes:,}",
            "flows": f"{edge.flows:,}", "id": f"{edge.src}>{edge.dst}{port}/{edge.protocol}"}


def _stamp(moments: list[Any]) -> str:
    return min(moments).strftime("%Y-%m-%d %H:%M:%S") if moments else "—"


def node_details(graph: Graph, key: str, events: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """What the panel shows for `key`; raises KeyError when the graph has no such node."""
    node = graph.nodes[key]
    outgoing = sorted((e for e in graph.edges if e.src == key), key=lambda e: (-e.bytes, -e.flows, e.dst))
    incoming = sorted((e for e in graph.edges if e.dst == key), key=lambda e: (-e.bytes, -e.flows, e.src))
    touching = outgoing + incoming
    last = max((e.last_seen for e in touching), default=None)
    asn, org, country = graph.info.get(key, (None, None, None))
    return {
        "key": node.key, "name": node.name, "kind": node.kind, "namespace": node.namespace or "—",
        "group": group_label(graph.group(key)), "ips": ", ".join(node.ips) or "—",
        "zone": "home" if graph.is_home(key) else "outside",
        "asn": f"AS{asn}" if asn else "—", "as_org": org or "—", "country": country or "—",
        "labels": [f"{a}={b}" for a, b in sorted(node.labels.items())],
        "first_seen": _stamp([e.first_seen for e in touching]),
        "last_seen": last.strftime("%Y-%m-%d %H:%M:%S") if last else "—",
        "outgoing": [_edge_row(e, e.dst) for e in outgoing[:MAX_EDGES_LISTED]],
        "incoming": [_edge_row(e, e.src) for e in incoming[:MAX_EDGES_LISTED]],
        "events": [{"id": str(ev["id"]), "kind": str(ev["kind"]), "severity": str(ev["severity"]),
                    "risk": str(ev["risk"]), "path": f"{ev['src']} → {ev['dst']}"}
                   for ev in events if key in (ev.get("src"), ev.get("dst"))],
    }
