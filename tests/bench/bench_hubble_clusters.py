"""Benchmark Hubble parse + aggregate CPU with clusters as a dimension (issue 19 A4), A/B against another tree.

Generates `--rows` Hubble lines with `bench_ingest`'s generator (every pod labelled
`io.cilium.k8s.policy.cluster=default`, as Cilium does) and a copy whose pods with an odd number are relabelled
`east` (two clusters, so half the workload keys carry the cluster). Each tree is measured in its own subprocess,
alternating trees `--rounds` times; the figure is the best CPU time (process time, all threads) of parse_file and
of build_frames, which the other load on a shared machine disturbs far less than wall time.

    .venv/bin/python tests/bench/bench_hubble_clusters.py --rows 200000 --rounds 4
    .venv/bin/python tests/bench/bench_hubble_clusters.py --trees /tmp/before-a4 . --rounds 4

`--trees` names source trees holding `jobs/` (e.g. a `git archive` of the commit before A4, with the built
`_hubble_scan` extension copied in); the default is this tree alone.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from jobs.engines.flows import parse_file
from jobs.engines.snapshot.builder import build_frames
best = {"parse": 1e9, "aggregate": 1e9}
for _ in range(int(sys.argv[3])):
    c0 = time.process_time()
    result = parse_file(sys.argv[2], "hubble")
    c1 = time.process_time()
    frames = build_frames(result.frame, window_seconds=3600)
    c2 = time.process_time()
    best = {"parse": min(best["parse"], c1 - c0), "aggregate": min(best["aggregate"], c2 - c1)}
nodes = sum(f.nodes.height for f in frames.values()) if isinstance(frames, dict) else 0
print(json.dumps({**best, "flows": result.frame.height, "nodes": nodes}))
"""


def generate(rows: int, folder: Path) -> dict[str, Path]:
    """The one-cluster file and its two-cluster copy."""
    from tests.bench.bench_ingest import flows, write_files

    one = write_files(flows(rows, 20_000, 4), folder, ["hubble"])["hubble"]
    east = re.compile(rb'("ID":\d*[13579],"identity":\d+,"namespace":"[^"]+","labels":\[[^]]*?'
                      rb'io\.cilium\.k8s\.policy\.cluster=)default')
    two = folder / "two-clusters.hubble"
    with one.open("rb") as source, two.open("wb") as target:
        for line in source:
            target.write(east.sub(rb"\1east", line))
    return {"one cluster": one, "two clusters": two}


def measure(tree: Path, path: Path, repeat: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(path), str(repeat)], check=True,
                          capture_output=True, text=True, cwd=tree)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the trees")
    parser.add_argument("--repeat", type=int, default=5, help="runs per subprocess (best of)")
    parser.add_argument("--trees", nargs="+", type=Path, default=[ROOT])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sg-bench-clusters-") as tmp:
        files = generate(args.rows, Path(tmp))
        best: dict[tuple[str, str], dict[str, float]] = {}
        for _ in range(args.rounds):
            for tree in args.trees:
                for label, path in files.items():
                    got = measure(tree.resolve(), path, args.repeat)
                    key = (str(tree), label)
                    old = best.get(key, {"parse": 1e9, "aggregate": 1e9})
                    best[key] = {**got, "parse": min(old["parse"], got["parse"]),
                                 "aggregate": min(old["aggregate"], got["aggregate"])}
        print("| tree | file | flows | nodes | parse CPU s | aggregate CPU s |")
        print("|---|---|---:|---:|---:|---:|")
        for (tree, label), got in best.items():
            print(f"| {tree} | {label} | {int(got['flows']):,} | {int(got['nodes']):,} | {got['parse']:.3f} | "
                  f"{got['aggregate']:.3f} |")


if __name__ == "__main__":
    main()
