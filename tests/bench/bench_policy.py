"""Issue 6 benchmark (engine): generation + proof, and the impact preview.

    .venv/bin/python tests/bench/bench_policy.py [--workloads 500] [--edges 5000] [--snapshots 24]

A seeded estate of `--workloads` pods in 10 namespaces (plus kube-dns and 50 external
addresses) with `--edges` distinct observed edges. Prints, as Markdown table rows:
- generation + proof: `generate_and_prove`, what the `generate_policies` job runs: generation,
  every manifest through the Kubernetes schema and the API server's field rules, the set through
  the evaluator (`verify`), split per policy; and, for reference, the client-model parse the
  tests add;
- impact preview: the kube-dns policy (every pod talks to it: the widest preview) narrowed by
  hand (its first ingress rule dropped) against all the others in force, over `--snapshots`
  snapshots of the estate (each with 2 % churn).
Each row gives wall time and the process's CPU time (the machine is shared: CPU time shows the
cost when other work competes for the two cores).
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.engines.policy.generate import generate_policies
from jobs.engines.policy.preview import candidate_impact
from jobs.engines.policy.proof import generate_and_prove
from jobs.engines.policy.validate import validate_manifest
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

START = datetime(2024, 4, 19, tzinfo=UTC)
PORTS = (80, 443, 5432, 6379, 8080, 9090, 9092)


def estate(workloads: int) -> list[NodeRecord]:
    """Pods `ns{i % 10}/svc{i}` with app/tier labels and an IP, kube-dns and external peers."""
    nodes = [
        NodeRecord(f"ns{i % 10}/svc{i}", f"svc{i}", "workload", f"ns{i % 10}",
                   {"app": f"svc{i}", "tier": ("web", "api", "db")[i % 3], "pod-template-hash": f"h{i}"},
                   (f"10.1.{i // 250}.{i % 250 + 1}",))
        for i in range(workloads)
    ]
    nodes.append(NodeRecord("kube-system/kube-dns", "kube-dns", "workload", "kube-system", {"k8s-app": "kube-dns"},
                            ("10.0.0.10",)))
    nodes += [NodeRecord(f"198.51.100.{i}", f"198.51.100.{i}", "external", ips=(f"198.51.100.{i}",))
              for i in range(1, 51)]
    return nodes


def observed(nodes: list[NodeRecord], edges: int, hour: int, churn: float) -> list[EdgeRecord]:
    """`edges` distinct edges (same pattern every hour, `churn` of them moved), DNS from every pod."""
    pods = [n.key for n in nodes if n.kind == "workload" and n.namespace != "kube-system"]
    peers = [n.key for n in nodes if n.kind == "external"]
    stable, rng = random.Random(1), random.Random(100 + hour)
    start = START + timedelta(hours=hour)
    keys = {(pod, "kube-system/kube-dns", 53, "UDP") for pod in pods}
    while len(keys) < edges:
        src = stable.choice(pods)
        dst = stable.choice(peers) if stable.random() < 0.05 else stable.choice(pods)
        keys.add((src, dst, stable.choice(PORTS), "TCP"))
    chosen = sorted(keys)
    out = []
    for src, dst, port, proto in chosen:
        if rng.random() < churn:
            dst = rng.choice(pods)
        out.append(EdgeRecord(src, dst, port, proto, rng.randint(100, 10**6), 10, rng.randint(1, 50), 0, start,
                              start + timedelta(minutes=59)))
    return list({e.key: e for e in out}.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", type=int, default=500)
    parser.add_argument("--edges", type=int, default=5000)
    parser.add_argument("--snapshots", type=int, default=24)
    args = parser.parse_args()
    nodes = estate(args.workloads)
    edges = observed(nodes, args.edges, 0, 0.0)

    began, cpu_began = time.perf_counter(), time.process_time()
    proven = generate_and_prove([(nodes, edges)], snapshot_ids=[1])
    proved, cpu_proved = time.perf_counter(), time.process_time()
    assert not proven.invalid and proven.exact, (proven.invalid, proven.allowed_not_observed)
    result = generate_policies([(nodes, edges)], snapshot_ids=[1])
    generated = time.perf_counter()
    models = [validate_manifest(p.manifest).model for p in result.policies]
    parsed = time.perf_counter()
    assert all(models)

    history = [(nodes, observed(nodes, args.edges, hour, 0.02)) for hour in range(args.snapshots)]
    manifests = result.manifests()
    target = next(i for i, m in enumerate(manifests) if m["spec"]["ingress"])
    narrowed = copy.deepcopy(manifests[target])
    narrowed["spec"]["ingress"] = narrowed["spec"]["ingress"][1:]
    others = manifests[:target] + manifests[target + 1:]
    impact_began, cpu_impact_began = time.perf_counter(), time.process_time()
    blocked = candidate_impact(narrowed, others, history)
    impact_done, cpu_impact_done = time.perf_counter(), time.process_time()
    assert blocked, "the narrowed policy should block something"

    print(f"| **generation + proof** of {len(proven.policies)} policies from {len(edges):,} edges (generate, "
          f"schema + field rules, evaluator: exact) | **{proved - began:.2f} s** | {cpu_proved - cpu_began:.2f} s |")
    print(f"| generation alone | {generated - proved:.2f} s | |")
    print(f"| all three validation layers incl. kubernetes client models (tests; not in the job) | "
          f"{parsed - generated:.2f} s | |")
    print(f"| impact preview of one narrowed policy over {args.snapshots} snapshots "
          f"({len(blocked)} blocked edges) | {impact_done - impact_began:.2f} s | {cpu_impact_done - cpu_impact_began:.2f} s |")


if __name__ == "__main__":
    main()
