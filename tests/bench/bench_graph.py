"""Issue 5's budget on a synthetic 5,000-node / 20,000-edge snapshot: server time to prepare the view and
the payload sent to the browser (the figure's JSON). Run: `.venv/bin/python tests/bench/bench_graph.py`."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.enrich import load_tables, lookup_addresses
from jobs.engines.graph.diff import changes_only, classify, union
from jobs.engines.graph.figure import view_figure
from jobs.engines.graph.filters import GraphFilter, apply_filter, search
from jobs.engines.graph.layout import Layout, compute_layout
from jobs.engines.graph.model import Graph
from jobs.engines.graph.view import PAGE_GROUP_THRESHOLD, ViewOptions, build_view
from jobs.engines.graph.zones import outside_addresses, place
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def estate(nodes: int = 5000, edges: int = 20_000, seed: int = 1) -> Graph:
    """50 namespaces of workloads (90 %), /24s of addresses and externals (10 %), random edges."""
    rng = random.Random(seed)
    records = [NodeRecord(f"ns{i % 50}/svc{i}", f"svc{i}", "workload", f"ns{i % 50}") for i in range(nodes * 9 // 10)]
    records += [NodeRecord(f"10.{i // 250 % 250}.{i % 7}.{i % 250}", "ip", "ip") for i in range(nodes // 20)]
    # outside peers in real (global) ranges of several networks, so they group by AS and country
    records += [NodeRecord(f"{(34, 52, 104, 142, 185)[i % 5]}.{i // 250}.{i % 250}.7", "ext", "external")
                for i in range(nodes - len(records))]
    keys = [r.key for r in records]
    links = {(rng.choice(keys), rng.choice(keys), rng.choice((80, 443, 5432, 8080, 22))) for _ in range(edges * 2)}
    chosen = sorted(links)[:edges]
    return Graph.of(records, [EdgeRecord(s, d, p, "tcp", rng.randint(1, 10**6), 1, 1, 0, T0, T0)
                              for s, d, p in chosen if s != d])


def timed(label: str, action: Callable[[], Any], runs: int = 3) -> Any:
    """Best of `runs` wall times, printed; returns the last result."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<48} {best * 1000:8.1f} ms")
    return result


def prepare(graph: Graph, layout: Layout, raw: dict[str, str], expanded: frozenset[str] = frozenset()) -> int:
    """What a state handler does for one view; returns the payload in bytes."""
    chosen = GraphFilter.parse(raw)
    shown = apply_filter(graph, chosen)
    view = build_view(shown, layout, ViewOptions(expanded, None, search(shown, chosen.text),
                                                 threshold=PAGE_GROUP_THRESHOLD))
    figure, _ = view_figure(view)
    return len(figure.to_json().encode())


def main() -> None:
    """Print the timings and payloads."""
    home = HomeNetworks.of()
    graph = estate()
    outside = outside_addresses(graph, home)
    info = timed("enrich the outside addresses (tables loaded once)", lambda: dict(zip(
        outside, lookup_addresses(load_tables(), outside), strict=True)), runs=1)
    graph = timed("place: home and AS groups", lambda: place(graph, home, info))
    print(f"graph: {len(graph.nodes):,} nodes, {len(graph.edges):,} edges")
    layout = timed("layout, cold (computed once, then cached)", lambda: compute_layout(graph), runs=1)
    timed("layout, seeded from the previous (stable)", lambda: compute_layout(graph, layout), runs=1)
    size = timed("view + figure, grouped (first open)", lambda: prepare(graph, layout, {}))
    print(f"{'  payload, grouped':<48} {size / 1024:8.1f} KiB")
    size = timed("filter change: namespace ns3", lambda: prepare(graph, layout, {"namespace": "ns3"}))
    print(f"{'  payload, namespace ns3':<48} {size / 1024:8.1f} KiB")
    size = timed("filter change: port 22 + min bytes", lambda: prepare(graph, layout, {"port": "22",
                                                                                    "min_bytes": "500000"}))
    print(f"{'  payload, port 22 + min bytes':<48} {size / 1024:8.1f} KiB")
    size = timed("drill into one group (ns7)", lambda: prepare(graph, layout, {}, frozenset({"ns:ns7"})))
    print(f"{'  payload, ns7 opened':<48} {size / 1024:8.1f} KiB")
    size = timed("search 'svc42'", lambda: prepare(graph, layout, {"text": "svc42"}))
    print(f"{'  payload, search':<48} {size / 1024:8.1f} KiB")
    base = place(estate(seed=2), home, info)
    both = union(base, graph)
    diff_layout = compute_layout(both, layout)
    timed("diff: classify + union", lambda: (classify(base, graph), union(base, graph)))
    size = timed("diff view + figure, grouped", lambda: len(view_figure(build_view(
        changes_only(both, classify(base, graph)), diff_layout,
        ViewOptions(diff=classify(base, graph), threshold=PAGE_GROUP_THRESHOLD)))[0].to_json().encode()))
    print(f"{'  payload, diff':<48} {size / 1024:8.1f} KiB")


if __name__ == "__main__":
    main()
