"""Issue 19 Part B benchmark (engine): one window of edges against the approved policies in monitor mode.

    .venv/bin/python tests/bench/bench_monitor.py [--edges 50000] [--policies 500] [--namespaces 20]

A seeded estate: `--policies` workloads spread over `--namespaces` namespaces (every namespace in monitor), each
with one policy that admits, on its observed ports, the sources the window's first 90 % of edges bring it; the
other 10 % are new connections (most of them violations). `--edges` distinct edges among the workloads and 200
external addresses. Prints a Markdown row: wall and CPU time of `evaluate_window` (best of 3), with the counts.
Goal (issue 19): ≤ 1 s for 50,000 edges against 500 policies.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.engines.policy.monitor import evaluate_window
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

T0 = datetime(2026, 12, 5, tzinfo=UTC)
PORTS = (80, 443, 5432, 6379, 8080, 8443, 9090)


def estate(workloads: int, namespaces: int) -> list[NodeRecord]:
    nodes = [
        NodeRecord(
            key=f"ns{i % namespaces}/w{i}",
            name=f"w{i}",
            kind="workload",
            namespace=f"ns{i % namespaces}",
            labels={"app": f"w{i}"},
        )
        for i in range(workloads)
    ]
    nodes += [
        NodeRecord(key=f"198.51.{i // 250}.{i % 250}", name="x", kind="external", ips=(f"198.51.{i // 250}.{i % 250}",))
        for i in range(200)
    ]
    return nodes


def window(nodes: list[NodeRecord], count: int, rng: random.Random) -> list[EdgeRecord]:
    keys, seen, edges = [n.key for n in nodes], set(), []
    pods = [n.key for n in nodes if n.kind == "workload"]
    while len(edges) < count:
        key = (rng.choice(keys), rng.choice(pods), rng.choice(PORTS))
        if key in seen or key[0] == key[1]:
            continue
        seen.add(key)
        edges.append(
            EdgeRecord(
                src=key[0],
                dst=key[1],
                dst_port=key[2],
                protocol="TCP",
                bytes=1000,
                packets=10,
                flows=rng.randint(1, 50),
                rejected=0,
                first_seen=T0,
                last_seen=T0,
            )
        )
    return edges


def policies(nodes: dict[str, NodeRecord], admitted: list[EdgeRecord]) -> list[dict[str, Any]]:
    sources: dict[str, dict[int, set[str]]] = {}
    for e in admitted:
        sources.setdefault(e.dst, {}).setdefault(e.dst_port or 0, set()).add(e.src)
    out = []
    for dst, by_port in sources.items():
        node = nodes[dst]
        rules = []
        for port, srcs in sorted(by_port.items()):
            peers = [
                {"ipBlock": {"cidr": f"{s}/32"}}
                if nodes[s].kind != "workload"
                else {
                    "podSelector": {"matchLabels": {"app": nodes[s].name}},
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": nodes[s].namespace}},
                }
                for s in sorted(srcs)
            ]
            rules.append({"from": peers, "ports": [{"port": port, "protocol": "TCP"}]})
        out.append(
            {
                "kind": "NetworkPolicy",
                "metadata": {"name": f"sg-{node.name}", "namespace": node.namespace},
                "spec": {
                    "podSelector": {"matchLabels": {"app": node.name}},
                    "policyTypes": ["Ingress"],
                    "ingress": rules,
                },
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, default=50_000)
    parser.add_argument("--policies", type=int, default=500)
    parser.add_argument("--namespaces", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(19)
    nodes = estate(args.policies, args.namespaces)
    edges = window(nodes, args.edges, rng)
    manifests = policies({n.key: n for n in nodes}, edges[: int(len(edges) * 0.9)])
    monitored = {f"ns{i}" for i in range(args.namespaces)}
    best_wall, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        result = evaluate_window(manifests, nodes, edges, monitored=monitored)
        best_wall, best_cpu = min(best_wall, time.perf_counter() - wall), min(best_cpu, time.process_time() - cpu)
    assert result is not None
    print("| what | goal | figure | edges | policies | violations |")
    print(
        f"| monitor: one window against the approved policies | ≤ 1 s | {best_wall:.2f} s wall, {best_cpu:.2f} s CPU "
        f"| {result.evaluated:,} | {len(manifests)} | {len(result.violations):,} |"
    )


if __name__ == "__main__":
    main()
