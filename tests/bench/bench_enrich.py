"""Benchmark the offline enrichment (ASN, AS organisation, country) against the parse it would ride on.

Goal (issue 17): enrichment at ingest costs at most 5 % more CPU than parsing. Two ways are measured:

- given:    `lookup_addresses` on the batch's distinct addresses, which the parser's address check already
            computes (jobs/engines/flows/finalize.py): the cost of wiring enrichment in there;
- distinct: `lookup_distinct` over a batch's addresses (both sides): one row per distinct address, the table
            ingest would keep beside the flows (graph nodes and events join it by address);
- per-row:  `lookup_frame` on src_ip and on dst_ip: six new columns on every flow.

Data:
- rita:      the 72 hourly Zeek conn.log files of ../shared/data/zeek/rita-missing-host, each parsed with
             parse_file and enriched as its own batch, in order (as one worker ingests upload after upload);
- synthetic: one Zeek TSV file of --rows flows (default 1M) from inside hosts to --outside (default 50k)
             distinct outside addresses (one in ten IPv6), parsed whole and in 500k-row batches.

CPU is process time (polars' threads included), best of --repeat runs. Each run starts with an empty answer
cache ("cold"); "warm" repeats the enrichment with the cache the cold run left, as the next windows of the
same sensor would. The tables are loaded before timing (their one-off load per process is printed apart).

`--ingest` measures the wiring as it landed instead: the ingest path (parse, then `UploadWriter.add` and
`commit`: edge, node and connection partials, plus the enrichment store of `jobs.stores.enrichment`) with
enrichment on and off, rounds interleaved, best CPU of each; the added CPU in % of the whole ingest without it.

    .venv/bin/python tests/bench/bench_enrich.py
    .venv/bin/python tests/bench/bench_enrich.py --rows 1000000 --outside 50000 --repeat 3
    .venv/bin/python tests/bench/bench_enrich.py --ingest --repeat 5
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.engines.enrich import Enrichment, address_key, load_tables, lookup_addresses, lookup_distinct, lookup_frame
from jobs.engines.flows import iter_batches, parse_file
from jobs.stores import enrichment
from jobs.stores.flows import UploadWriter
from models.settings import get_settings

RITA = Path(__file__).resolve().parents[3] / "shared" / "data" / "zeek" / "rita-missing-host"
ZEEK_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#open\t2024-04-19-00-00-00\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\t"
    "resp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\t"
    "resp_pkts\tresp_ip_bytes\ttunnel_parents\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\t"
    "count\tstring\tcount\tcount\tcount\tcount\tset[string]\n"
)
T = TypeVar("T")


def timed(action: Callable[[], T], repeat: int, cold: bool = False) -> tuple[T, float, float]:
    """(result, best CPU seconds, best wall seconds) over `repeat` runs; `cold` empties the answer cache first."""
    best_cpu = best_wall = float("inf")
    result: T | None = None
    for _ in range(repeat):
        if cold:
            load_tables().cache.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        result = action()
        best_cpu, best_wall = min(best_cpu, time.process_time() - cpu), min(best_wall, time.perf_counter() - wall)
    assert result is not None
    return result, best_cpu, best_wall


def per_row(frame: pl.DataFrame) -> pl.DataFrame:
    """The six columns per flow: asn, as_org and country of each side."""
    return pl.concat([lookup_frame(frame["src_ip"]).rename(lambda c: f"src_{c}"),
                      lookup_frame(frame["dst_ip"]).rename(lambda c: f"dst_{c}")], how="horizontal")


def distinct(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per distinct address of either side."""
    return lookup_distinct(pl.concat([frame["src_ip"], frame["dst_ip"]]))


def distinct_counts(frames: list[pl.DataFrame]) -> str:
    """Distinct addresses over both sides: all, public, public with a known ASN."""
    table = pl.concat([distinct(frame) for frame in frames]).unique("address")
    public = sum(address_key(text) is not None for text in table["address"])
    return f"distinct {len(table):,} (public {public:,}, with ASN {table['asn'].is_not_null().sum():,})"


def map_frames(enrich: Callable[[pl.DataFrame], pl.DataFrame], frames: list[pl.DataFrame]) -> list[pl.DataFrame]:
    return [enrich(frame) for frame in frames]


def map_lists(batches: list[list[str]]) -> list[list[Enrichment]]:
    tables = load_tables()
    return [lookup_addresses(tables, addresses) for addresses in batches]


def measure(name: str, batches: Callable[[], list[pl.DataFrame]], repeat: int) -> None:
    """Parse, then each way of enriching, cold and warm; one line per way, in % of the parse CPU."""
    frames, parse_cpu, parse_wall = timed(batches, repeat)
    rows = sum(map(len, frames))
    print(f"{name}: {len(frames)} batches, {rows:,} flows, {distinct_counts(frames)}; "
          f"parse {parse_cpu:.3f} s CPU ({parse_wall:.3f} s wall)")
    # What the parser's address check already holds: each batch's distinct addresses.
    known = [pl.concat([frame["src_ip"], frame["dst_ip"]]).drop_nulls().unique().to_list() for frame in frames]
    ways: list[tuple[str, Callable[[], object]]] = [
        ("given", partial(map_lists, known)), ("distinct", partial(map_frames, distinct, frames)),
        ("per-row", partial(map_frames, per_row, frames)),
    ]
    for way, action in ways:
        for cold in (True, False):
            _, cpu, wall = timed(action, repeat, cold=cold)
            print(f"  {way:<9} {'cold' if cold else 'warm'}  {cpu * 1000:8.1f} ms CPU ({wall * 1000:8.1f} ms wall)"
                  f"  = {100 * cpu / parse_cpu:5.1f} % of parse CPU")


def bench_rita(repeat: int) -> None:
    files = sorted(RITA.rglob("conn*.log*"))
    if len(files) != 72:
        raise SystemExit(f"expected the 72 hourly files of {RITA}, found {len(files)}")
    measure("rita-missing-host, 72 hourly files", lambda: [parse_file(path).frame for path in files], repeat)


def outside_addresses(count: int, seed: int = 17) -> list[str]:
    """`count` distinct public addresses, one in ten IPv6 (in 2000::/3), the rest IPv4 anywhere public."""
    rng, found = random.Random(seed), set[str]()
    while len(found) < count:
        if len(found) % 10 == 9:
            found.add(str(ipaddress.IPv6Address((0x2 << 124) | rng.getrandbits(124))))
            continue
        candidate = ipaddress.IPv4Address(rng.getrandbits(32))
        if candidate.is_global and not candidate.is_multicast:
            found.add(str(candidate))
    return sorted(found)


def write_synthetic(path: Path, rows: int, outside: int) -> None:
    """Zeek TSV lines: inside host → outside address over one day; half the flows go to the busiest 1 %."""
    hosts = pl.Series(outside_addresses(outside))
    i = pl.int_range(rows, dtype=pl.Int64)
    pick = pl.when(i % 2 == 0).then((i * 7919) % max(outside // 100, 1)).otherwise((i // 2 * 104_729) % outside)
    frame = pl.select(
        ts=pl.format("{}.{}", 1_713_484_800 + i * 86_400 // rows, (i % 1_000_000).cast(pl.Utf8).str.zfill(6)),
        uid=pl.format("C{}", i), src=pl.format("10.{}.{}.{}", i % 8, (i // 8) % 250, i % 250 + 1),
        sport=(i * 31) % 28_000 + 32_768, dst=hosts.gather(pick), dport=pl.lit(443),
    )
    line = pl.concat_str([pl.col("ts"), "uid", "src", "sport", "dst", "dport",
                          pl.lit("tcp\tssl\t1.250000\t517\t4200\tSF\tT\tF\t0\tShADadFf\t8\t937\t7\t4480\t-")],
                         separator="\t")
    with path.open("w", encoding="utf-8") as handle:
        handle.write(ZEEK_HEADER)
        for chunk in frame.select(line.alias("l")).iter_slices(200_000):
            chunk.write_csv(handle, include_header=False, quote_style="never")


def bench_synthetic(rows: int, outside: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "conn.log"
        write_synthetic(path, rows, outside)
        measure(f"synthetic {rows:,} flows, whole file", lambda: [parse_file(path).frame], repeat)
        measure(f"synthetic {rows:,} flows, 500k-row batches", lambda: [b.frame for b in iter_batches(path)],
                repeat)


class NoEnrichment(enrichment.BatchEnricher):
    """The writer as it was before enrichment: nothing looked up, nothing stored."""

    def add(self, addresses: pl.Series) -> None:
        return None


class TimedEnrichment(enrichment.BatchEnricher):
    """The writer's enrichment, its own CPU summed (`spent`): what ingest pays for it, measured where it is paid
    rather than as the difference of two noisy totals on a shared machine."""

    spent = 0.0

    def add(self, addresses: pl.Series) -> None:
        began = time.process_time()
        super().add(addresses)
        TimedEnrichment.spent += time.process_time() - began

    def write(self, folder: Path, upload_id: int) -> Path | None:
        began = time.process_time()
        written = super().write(folder, upload_id)
        TimedEnrichment.spent += time.process_time() - began
        return written


def write_uploads(uploads: list[list[pl.DataFrame]], enrich: bool) -> int:
    """Each upload's batches through the writer, committed: what `ingest_flows` does after parsing."""
    partitions = 0
    for upload_id, frames in enumerate(uploads, start=1):
        writer = UploadWriter(tenant_id=1, upload_id=upload_id, fmt="zeek_tsv")
        writer.enricher = TimedEnrichment() if enrich else NoEnrichment()
        for frame in frames:
            writer.add(frame)
        partitions += len(writer.commit())
    return partitions


def measure_ingest(name: str, uploads: list[list[pl.DataFrame]], parse_cpu: float, repeat: int) -> None:
    """Ingest CPU without enrichment (best of `repeat`) and enrichment's own CPU, cold cache then warm (best of
    `repeat`); the on-minus-off difference of totals is printed too, as a cross-check."""
    best: dict[str, float] = {}
    own: dict[str, float] = {}
    for _ in range(repeat):
        for mode in ("off", "cold", "warm"):
            if mode == "cold":
                load_tables().cache.clear()
            TimedEnrichment.spent = 0.0
            _, cpu, _ = timed(partial(write_uploads, uploads, mode != "off"), 1)
            best[mode] = min(best.get(mode, float("inf")), cpu)
            own[mode] = min(own.get(mode, float("inf")), TimedEnrichment.spent)
    base = parse_cpu + best["off"]
    print(f"{name}: ingest without enrichment {base:.3f} s CPU (parse {parse_cpu:.3f}, write {best['off']:.3f})")
    for mode in ("cold", "warm"):
        print(f"  enrichment at ingest, {mode}: {own[mode] * 1000:7.1f} ms CPU = {100 * own[mode] / base:5.1f} % of "
              f"ingest CPU (totals on - off: {1000 * (best[mode] - best['off']):+7.1f} ms)")


def bench_ingest(rows: int, outside: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        import os

        os.environ["SG_DATA_DIR"] = str(Path(folder) / "data")
        get_settings.cache_clear()
        files = sorted(RITA.rglob("conn*.log*"))
        uploads, parse_cpu, _ = timed(lambda: [[parse_file(path).frame] for path in files], 1)
        measure_ingest(f"rita-missing-host, {len(files)} uploads", uploads, parse_cpu, repeat)
        path = Path(folder) / "conn.log"
        write_synthetic(path, rows, outside)
        batches, parse_cpu, _ = timed(lambda: [b.frame for b in iter_batches(path)], 1)
        measure_ingest(f"synthetic {rows:,} flows to {outside:,} outside addresses, 500k-row batches", [batches],
                       parse_cpu, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--outside", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ingest", action="store_true", help="measure the ingest path with enrichment on and off")
    args = parser.parse_args()
    cpu, wall = time.process_time(), time.perf_counter()
    tables = load_tables()
    asn_ranges = sum(len(f.asn_ranges.low) for f in tables.families.values())
    country_ranges = sum(len(f.country_ranges.low) for f in tables.families.values())
    print(f"tables {tables.version}: {asn_ranges:,} ASN ranges, {country_ranges:,} country ranges, loaded once per "
          f"process in {time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU")
    if args.ingest:
        bench_ingest(args.rows, args.outside, args.repeat)
        return
    bench_rita(args.repeat)
    bench_synthetic(args.rows, args.outside, args.repeat)


if __name__ == "__main__":
    main()
