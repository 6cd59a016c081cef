"""What deciding flow direction costs the Zeek and VPC parsers (issue 19 A2): parse CPU with it and without.

    .venv/bin/python tests/bench/bench_flow_direction.py [--data ../shared/data] [--files /tmp/sgbench] [--rounds 5]

"Without" patches out the step after each parser's select (Zeek: `zeek_direction.oriented`, the port signals and
the swap; VPC: `direction.with_direction_skips`); the columns the select adds for it stay, so the figure is a floor
of the cost (compare a checkout from before the change for the whole of it). Inputs: the 72 hourly RITA logs
(105,918 real records: ICMP, UDP and mid-session TCP leave many histories to the ports), the labeled capture, and
with `--files` the 1M-flow Zeek TSV and VPC files `bench_ingest.py --files` generated. Rounds alternate with and
without, the best CPU time of each is printed (the machine is shared: the best is the least disturbed).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import jobs.engines.flows.vpc as vpc_parser
import jobs.engines.flows.zeek_json as zeek_json_parser
import jobs.engines.flows.zeek_tsv as zeek_tsv_parser
from jobs.engines.flows import parse_file

# (module, name) of each step the "without" rounds replace by a pass-through
STEPS = ((zeek_tsv_parser, "oriented"), (zeek_json_parser, "oriented"), (vpc_parser, "with_direction_skips"))
ON = [getattr(module, name) for module, name in STEPS]


def _same(frame: pl.DataFrame, **_: object) -> pl.DataFrame:
    return frame


def switch(on: bool) -> None:
    for (module, name), step in zip(STEPS, ON, strict=True):
        setattr(module, name, step if on else _same)


def parse_cpu(datas: list[bytes]) -> float:
    start = time.process_time()
    for data in datas:
        parse_file(data)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data")
    parser.add_argument("--files", type=Path, help="folder with bench_ingest's flows.zeek_tsv and flows.vpc")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    rita = [gzip.decompress(p.read_bytes()) for p in sorted((args.data / "zeek/rita-missing-host").glob("*/*.gz"))]
    labeled = (args.data / "labeled/stratosphere-008-zeek-mixed/conn.log.labeled").read_bytes()
    inputs: dict[str, list[bytes]] = {"RITA 72 hourly logs": rita, "labeled capture": [labeled]}
    if args.files:
        inputs["1M-flow Zeek TSV"] = [(args.files / "flows.zeek_tsv").read_bytes()]
        inputs["1M-flow VPC v2"] = [(args.files / "flows.vpc").read_bytes()]
    for name, datas in inputs.items():
        best = {True: float("inf"), False: float("inf")}
        for _ in range(args.rounds):
            for on in (True, False):
                switch(on)
                best[on] = min(best[on], parse_cpu(datas))
        switch(True)
        records = sum(parse_file(d).records for d in datas)
        share = 100 * (best[True] - best[False]) / best[False]
        print(f"{name}: {records:,} records, parse CPU {best[True]:.3f} s with direction, {best[False]:.3f} s "
              f"without ({share:+.1f} %)")


if __name__ == "__main__":
    main()
