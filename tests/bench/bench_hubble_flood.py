"""Issue 16 benchmark: Hubble endpoint objects crafted to collide in the scanner's hash table vs ordinary ones.

    .venv/bin/python tests/bench/bench_hubble_flood.py [--lines 40000] [--runs 3] [--leaked-key]

Both files have `--lines` flows, each from its own source endpoint, and the same size. The crafted endpoints
collide under the scanner's hash of before issue 16 (tests/security/hubble_flood.py says how). Prints the best
of `--runs` parses (HubbleParser.parse_chunk) of each and their ratio. `--leaked-key` keys the scanner with those
old constants, as if an attacker knew the key: the crafted file is then refused (MAX_PROBES) and the time shown is
how long the refusal took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.engines.flows import _hubble_scan
from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.hubble import HubbleParser
from tests.security.hubble_flood import OLD_KEY, flood_file, key_bytes


def timed_parse(data: bytes) -> tuple[float, str]:
    """Seconds of one parse and what came of it."""
    started = time.perf_counter()
    try:
        outcome = f"{HubbleParser().parse_chunk(data, 1).records:,} records"
    except FlowFileRejected as exc:
        outcome = f"refused: {exc.reason[:60]}…"
    return time.perf_counter() - started, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=40_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--leaked-key", action="store_true", help="key the scanner with the constants of before")
    args = parser.parse_args()
    if args.leaked_key:
        _hubble_scan.set_hash_key(key_bytes(OLD_KEY))
    files = {"ordinary": flood_file(args.lines, crafted=False), "crafted": flood_file(args.lines, crafted=True)}
    best: dict[str, tuple[float, str]] = {}
    for _ in range(args.runs):  # alternating, so a busy moment of the machine hits both alike
        for name, data in files.items():
            seconds, outcome = timed_parse(data)
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, outcome)
    size = len(files["ordinary"]) / 1e6
    key = "the constants of before issue 16 (--leaked-key)" if args.leaked_key else "random per process"
    print(f"{args.lines:,} lines per file, {size:.1f} MB each; hash key: {key}; best of {args.runs}")
    for name, (seconds, outcome) in best.items():
        print(f"  {name:9} {seconds:8.3f} s  ({outcome})")
    print(f"  ratio     {best['crafted'][0] / best['ordinary'][0]:8.2f}")


if __name__ == "__main__":
    main()
