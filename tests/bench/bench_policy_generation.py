"""Issue 19 A5 benchmark (engine): policy generation over 7 days of hourly windows.

    .venv/bin/python tests/bench/bench_policy_generation.py [--windows 168] [--workloads 60] [--edges 400] \
        [--noise 3000] [--compare]

Demo-like windows: each hour holds a Kubernetes estate of `--workloads` pods (bench_policy's estate: 10
namespaces, kube-dns, 50 external peers; `--edges` distinct workload edges, 2 % churn per hour) and, as the
demo tenant's Zeek sensor does, `--noise` address-to-address edges with no workload at either end; every
fourth hour is Zeek only (no workload at all). Times `generate_and_prove` (what the `generate_policies` job
runs once the windows are read: the workload cut, generation, schema and field rules, the evaluator's
proof) over all the windows, and with `--compare` the same without the cut (generation and proof on the
whole union: what the job did before), which is what made a week of windows time out.
Not measured here: reading the windows' sidecars (the job's loader, per window, before this).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.engines.policy.evaluate import verify
from jobs.engines.policy.generate import generate_policies
from jobs.engines.policy.proof import generate_and_prove
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord
from tests.bench.bench_policy import START, estate, observed


def noise(hour: int, count: int) -> tuple[list[NodeRecord], list[EdgeRecord]]:
    """Zeek-like traffic of one hour: a sensor and the internet, addresses only."""
    rng = random.Random(hour)
    start = START + timedelta(hours=hour)
    pairs = {(f"64.225.56.{rng.randrange(1, 250)}", f"203.0.{rng.randrange(0, 64)}.{rng.randrange(1, 250)}",
              rng.choice((22, 80, 443, 3389, 8080))) for _ in range(count)}
    edges = [EdgeRecord(src, dst, port, "TCP", 600, 6, 1, 0, start, start + timedelta(minutes=50))
             for src, dst, port in sorted(pairs)]
    keys = sorted({key for src, dst, _ in pairs for key in (src, dst)})
    return [NodeRecord(key, key, "ip", ips=(key,)) for key in keys], edges


def windows(count: int, workloads: int, edges: int, noise_edges: int) -> list[tuple[list, list]]:  # type: ignore[type-arg]
    nodes = estate(workloads)
    built = []
    for hour in range(count):
        zeek_nodes, zeek_edges = noise(hour, noise_edges)
        if hour % 4 == 3:
            built.append((zeek_nodes, zeek_edges))
        else:
            built.append((nodes + zeek_nodes, observed(nodes, edges, hour, 0.02) + zeek_edges))
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=168)
    parser.add_argument("--workloads", type=int, default=60)
    parser.add_argument("--edges", type=int, default=400)
    parser.add_argument("--noise", type=int, default=3000)
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    history = windows(args.windows, args.workloads, args.edges, args.noise)
    total = sum(len(e) for _, e in history)
    began, cpu = time.perf_counter(), time.process_time()
    proven = generate_and_prove(history, snapshot_ids=list(range(1, args.windows + 1)))
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert proven.exact and not proven.invalid, (proven.allowed_not_observed, proven.invalid)
    print(f"| policy generation + proof over {args.windows} hourly windows ({proven.workload_windows} with "
          f"workloads; {total:,} edges in all, {args.noise:,} Zeek-like per window): {len(proven.policies)} "
          f"policies, exact | **{wall:.2f} s** | {cpu:.2f} CPU-s |")
    if args.compare:
        began = time.perf_counter()
        result = generate_policies(history)
        verify(result.manifests(), result.nodes, result.edges, limit=5000)
        print(f"| the same without the workload cut (before) | {time.perf_counter() - began:.2f} s | |")


if __name__ == "__main__":
    main()
