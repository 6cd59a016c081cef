"""Issue 4 benchmark (engine part): two snapshots of 50,000 edges each through `analyze`.

    .venv/bin/python tests/bench/bench_drift.py [--edges 50000]

Prints the time to build the baseline from the first snapshot and to analyze the second
(detect, score, explain), plus how many events came out.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.engines.drift import Snapshot, analyze, build_baseline
from jobs.engines.snapshot.types import EdgeRecord, NodeRecord

START = datetime(2024, 4, 19, tzinfo=UTC)


def snapshot(edges: int, hour: int, seed: int, churn: float) -> Snapshot:
    rng = random.Random(seed)
    start = START + timedelta(hours=hour)
    keys = [f"ns{i % 40}/svc{i}" for i in range(5000)]
    nodes = tuple(NodeRecord(k, k.split("/")[1], "workload", k.split("/")[0], {"app": k}) for k in keys)
    stable = random.Random(1)
    chosen = [(stable.choice(keys), stable.choice(keys), stable.choice((80, 443, 5432, 6379, 8080))) for _ in range(edges)]
    out = []
    for src, dst, port in chosen:
        if rng.random() < churn:
            dst = rng.choice(keys)
        out.append(EdgeRecord(src, dst, port, "tcp", rng.randint(100, 10**6), 10, rng.randint(1, 50), 0, start,
                              start + timedelta(minutes=59)))
    return Snapshot(start, start + timedelta(hours=1), nodes, tuple(dict.fromkeys(out)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=50_000)
    args = parser.parse_args()
    first, second = snapshot(args.edges, 0, 1, 0.0), snapshot(args.edges, 1, 2, 0.02)
    began = time.perf_counter()
    baseline = build_baseline([first])
    built = time.perf_counter()
    events = analyze(second, first, baseline, now=second.window_end)
    done = time.perf_counter()
    print(f"| build baseline from one {len(first.edges):,}-edge snapshot | {built - began:.2f} s |")
    print(f"| analyze a {len(second.edges):,}-edge snapshot against it ({len(events):,} events) | {done - built:.2f} s |")


if __name__ == "__main__":
    main()
