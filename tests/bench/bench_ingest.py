"""Benchmark flow ingestion: parse + aggregate vs a bare polars read + group-by of the same file.

Generates a realistic flow file per format (canonical CSV, Zeek TSV, Hubble JSON, VPC v2) in a
temp dir, then measures each mode in a fresh subprocess (so peak memory is per measurement):

- ours:   parse_file + build_frames (validated canonical frame → hourly node and edge frames, the columns
          that build_snapshot persists; no Python object per edge)
- stream: iter_batches(batch_rows=500k), one batch parsed ahead (as `ingest_flows` does) +
          SnapshotAccumulator.build_frames (bounded memory)
- polars: polars' own reader + group_by (src, dst, dst_port, protocol); no validation, no windows
- store:  what `ingest_flows` does: `stream`'s batches through `UploadWriter` (5-minute edge, node and connection
          partials written to a fresh flow store) and its `commit`; then `read_connections` of the first hour
          (`--rows 200000 --hours 4` makes that a 50k-flow window). `store-noconns` is the same without the
          connection partials, to show what they cost.

    .venv/bin/python tests/bench/bench_ingest.py --rows 1000000
    .venv/bin/python tests/bench/bench_ingest.py --rows 10000000 --formats zeek_tsv --modes stream
    .venv/bin/python tests/bench/bench_ingest.py --formats csv zeek_tsv --modes stream store store-noconns
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

FORMATS = ("csv", "zeek_tsv", "hubble", "vpc")
MODES = ("ours", "stream", "polars", "store", "store-noconns")
DEFAULT_MODES = ("ours", "stream", "polars", "store")
START_US = 1_713_484_800_000_000  # 2024-04-19T00:00:00Z
NAMESPACES = ("shop", "payments", "search", "identity", "platform", "monitoring", "kube-system", "data")
SAFE = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' alphabet for generated name suffixes
ZEEK_FIELDS = [
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration", "orig_bytes",
    "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts",
    "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents",
]
ZEEK_TYPES = [
    "time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count", "count", "string",
    "bool", "bool", "count", "string", "count", "count", "count", "count", "set[string]",
]
VPC_HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status"
)


def fill(template: str, *values: pl.Expr | str) -> pl.Expr:
    """`template` with each `§` replaced by the next value (braces stay literal, unlike pl.format)."""
    pieces = template.split("§")
    parts: list[pl.Expr] = [pl.lit(pieces[0])]
    for value, piece in zip(values, pieces[1:], strict=True):  # strict: placeholders and values must match
        parts += [pl.col(value) if isinstance(value, str) else value, pl.lit(piece)]
    return pl.concat_str([part.cast(pl.Utf8) for part in parts])


def hosts(internal: int = 1800, external: int = 3200) -> pl.DataFrame:
    """Pods (namespace, workload, pod name with ReplicaSet hash) and internet hosts."""
    i, j = pl.col("i"), pl.col("j")
    workload = fill("svc-§-v1", i // 3)
    letters = pl.lit(pl.Series(list(SAFE)))
    suffix = pl.concat_str([letters.gather((i // len(SAFE) ** k) % len(SAFE)) for k in range(5)])
    pods = pl.DataFrame({"i": range(internal)}).select(
        ip=fill("10.244.§.§", i // 200, i % 200 + 10), namespace=pl.lit(pl.Series(NAMESPACES)).gather(i % 8),
        workload=workload, pod=pl.concat_str(workload, pl.lit("-7d4b9c8f6d-"), suffix), external=pl.lit(False),
    )
    internet = pl.DataFrame({"j": range(external)}).select(
        ip=fill("§.§.§.§", j % 180 + 23, (j * 7) % 250 + 1, (j * 13) % 250 + 1, j % 250 + 1),
        namespace=pl.lit(None, pl.Utf8), workload=pl.lit(None, pl.Utf8), pod=pl.lit(None, pl.Utf8),
        external=pl.lit(True),
    )
    return pl.concat([pods, internet]).with_row_index("host")


def flows(rows: int, edges: int, hours: int) -> pl.DataFrame:
    """`rows` flows over `hours` hours on `edges` edge templates with heavy-tailed popularity."""
    table = hosts()
    e = pl.int_range(0, edges, eager=True)
    ports = pl.lit(pl.Series([443, 80, 53, 5432, 6379, 8080, 9090, 22]))
    templates = pl.DataFrame({"edge": e}).select(
        "edge", src=(e.hash(1) % 1800).cast(pl.UInt32),  # clients are pods
        dst=(e.hash(2) % table.height).cast(pl.UInt32), dst_port=ports.gather(e.hash(3) % 8).cast(pl.Int32),
    ).with_columns(protocol=pl.when(pl.col("dst_port") == 53).then(pl.lit("udp")).otherwise(pl.lit("tcp")))
    idx = pl.int_range(0, rows, eager=True)
    u = (idx.hash(4) % 1_000_003).cast(pl.Float64) / 1_000_003
    frame = pl.DataFrame({
        "edge": (u * u * u * edges).cast(pl.Int64), "ts_us": START_US + idx * (hours * 3_600_000_000 // rows),
        "h": idx.hash(5),
    }).join(templates, on="edge", how="left", maintain_order="left")
    for side in ("src", "dst"):
        named = table.rename({c: f"{side}_{c}" for c in table.columns if c != "host"})
        frame = frame.join(named, left_on=side, right_on="host", how="left", maintain_order="left")
    h = pl.col("h")
    return frame.with_columns(
        src_port=(h % 28_000 + 32_768).cast(pl.Int32), orig_bytes=(h % 4_000).cast(pl.Int64),
        resp_bytes=(h // 7 % 60_000).cast(pl.Int64), orig_pkts=(h % 9 + 1).cast(pl.Int64),
        resp_pkts=(h // 11 % 40).cast(pl.Int64), duration_us=(h % 5_000_000).cast(pl.Int64),
        rejected=h % 20 == 0, reply=h % 5 < 2,
    )


def write_files(frame: pl.DataFrame, folder: Path, formats: list[str]) -> dict[str, Path]:
    """Write `frame` as one file per format; returns format → path."""
    paths = {fmt: folder / f"flows.{fmt}" for fmt in formats}
    for fmt, path in paths.items():
        if fmt == "csv":
            _canonical(frame).write_csv(path)
            continue
        header, line = {"zeek_tsv": _zeek, "vpc": _vpc, "hubble": _hubble}[fmt]()
        with path.open("w", encoding="utf-8") as handle:
            handle.write(header)
            for chunk in frame.select(line.alias("l")).iter_slices(200_000):
                chunk.write_csv(handle, include_header=False, quote_style="never")
    return paths


def _canonical(frame: pl.DataFrame) -> pl.DataFrame:
    us = pl.Datetime("us", "UTC")
    return frame.select(
        ts_start=pl.col("ts_us").cast(us), ts_end=(pl.col("ts_us") + pl.col("duration_us")).cast(us),
        src_ip="src_ip", src_port="src_port", dst_ip="dst_ip", dst_port="dst_port", protocol="protocol",
        bytes=pl.col("orig_bytes") + pl.col("resp_bytes"), packets=pl.col("orig_pkts") + pl.col("resp_pkts"),
        action=pl.when("rejected").then(pl.lit("reject")).otherwise(pl.lit("accept")),
    )


def _zeek() -> tuple[str, pl.Expr]:
    header = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    header += f"#open\t2024-04-19-00-00-00\n#fields\t{chr(9).join(ZEEK_FIELDS)}\n#types\t{chr(9).join(ZEEK_TYPES)}\n"
    rej, ts, dur = pl.col("rejected"), pl.col("ts_us"), pl.col("duration_us")
    return header, pl.concat_str([
        fill("§.§", ts // 10**6, (ts % 10**6).cast(pl.Utf8).str.zfill(6)), fill("C§", pl.col("h") % 10**15), "src_ip",
        "src_port", "dst_ip", "dst_port", "protocol", pl.lit("-"),
        fill("§.§", dur // 10**6, (dur % 10**6).cast(pl.Utf8).str.zfill(6)), pl.when(rej).then(0).otherwise("orig_bytes"),
        pl.when(rej).then(0).otherwise("resp_bytes"), pl.when(rej).then(pl.lit("REJ")).otherwise(pl.lit("SF")),
        pl.lit("T\tF\t0\tShADadFf"), "orig_pkts", pl.col("orig_bytes") + 40 * pl.col("orig_pkts"), "resp_pkts",
        pl.col("resp_bytes") + 40 * pl.col("resp_pkts"), pl.lit("-"),
    ], separator="\t")


def _vpc() -> tuple[str, pl.Expr]:
    return VPC_HEADER + "\n", pl.concat_str([
        pl.lit("2 123456789012"), fill("eni-§", pl.col("src") + 100000), "src_ip", "dst_ip", "src_port",
        "dst_port", pl.when(pl.col("protocol") == "udp").then(pl.lit("17")).otherwise(pl.lit("6")),
        pl.col("orig_pkts") + pl.col("resp_pkts"), pl.col("orig_bytes") + pl.col("resp_bytes"),
        pl.col("ts_us") // 1_000_000, (pl.col("ts_us") + pl.col("duration_us")) // 1_000_000 + 60,
        pl.when("rejected").then(pl.lit("REJECT")).otherwise(pl.lit("ACCEPT")), pl.lit("OK"),
    ], separator=" ")


def _endpoint(side: str) -> pl.Expr:
    ns, workload = pl.col(f"{side}_namespace"), pl.col(f"{side}_workload")
    labels = fill(
        '"k8s:app=§","k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=§",'
        '"k8s:io.cilium.k8s.policy.cluster=default","k8s:io.cilium.k8s.policy.serviceaccount=§",'
        '"k8s:io.kubernetes.pod.namespace=§","k8s:version=v1"', workload, ns, workload, ns,
    )
    pod = fill('{"ID":§,"identity":§,"namespace":"§","labels":[§],"pod_name":"§"}',
               pl.col(side) + 100, pl.col(side) + 20000, ns, labels, f"{side}_pod")
    world = pl.lit('{"identity":2,"labels":["reserved:world"]}')
    return pl.when(pl.col(f"{side}_external")).then(world).otherwise(pod)


def _hubble() -> tuple[str, pl.Expr]:
    """A `hubble observe -o json` line modelled on the hubble-otel samples (~1.1 KB)."""
    time_text = pl.col("ts_us").cast(pl.Datetime("us", "UTC")).dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ")
    reply = pl.col("reply")
    sides = [pl.col("src_ip"), pl.col("dst_ip"), pl.col("src_port"), pl.col("dst_port"), _endpoint("src"),
             _endpoint("dst")]
    # Reply flows swap the endpoints, as Hubble reports them.
    swap = [pl.when(reply).then(sides[k ^ 1]).otherwise(sides[k]) for k in range(6)]
    return "", fill(
        '{"flow":{"time":"§","verdict":"§","ethernet":{"source":"46:e5:ea:1f:95:ff","destination":'
        '"d6:ec:b0:4a:ff:46"},"IP":{"source":"§","destination":"§","ipVersion":"IPv4"},"l4":{"§":{'
        '"source_port":§,"destination_port":§,"flags":{"PSH":true,"ACK":true}}},"source":§,"destination":§,'
        '"Type":"L3_L4","node_name":"kind-worker","event_type":{"type":4},"traffic_direction":"EGRESS",'
        '"trace_observation_point":"TO_STACK","is_reply":§,"interface":{"index":12,"name":"lxc8a1b2c3d4e5f"},'
        '"Summary":"TCP Flags: ACK, PSH"},"node_name":"kind-worker","time":"§"}',
        time_text, pl.when("rejected").then(pl.lit("DROPPED")).otherwise(pl.lit("FORWARDED")), *swap[:2],
        pl.when(pl.col("protocol") == "udp").then(pl.lit("UDP")).otherwise(pl.lit("TCP")), *swap[2:],
        pl.when(reply).then(pl.lit("true")).otherwise(pl.lit("false")), time_text,
    )


def _ours(fmt: str, path: Path) -> dict[str, Any]:
    from jobs.engines.flows import parse_file
    from jobs.engines.snapshot.builder import build_frames

    start, cpu = time.perf_counter(), time.process_time()
    result = parse_file(path, fmt)  # type: ignore[arg-type]
    parsed = time.perf_counter()
    snapshots = build_frames(result.frame)
    done = time.perf_counter()
    return {"seconds": done - start, "parse": parsed - start, "aggregate": done - parsed, "records": result.records,
            "cpu": time.process_time() - cpu, "flows": result.accepted,
            "edges": sum(s.edges.height for s in snapshots.values())}


def _stream(fmt: str, path: Path) -> dict[str, Any]:
    from jobs.engines.flows import iter_batches
    from jobs.engines.snapshot.builder import SnapshotAccumulator
    from jobs.runtime.prefetch import prefetched
    from jobs.tasks.ingest import BATCH_ROWS

    start, cpu = time.perf_counter(), time.process_time()
    accumulator, records, accepted = SnapshotAccumulator(), 0, 0
    # As ingestion does: the next batch is parsed while this one is aggregated.
    for batch in prefetched(iter_batches(path, fmt, batch_rows=BATCH_ROWS)):  # type: ignore[arg-type]
        records, accepted = records + batch.records, accepted + batch.accepted
        accumulator.add(batch.frame)
    edges = sum(s.edges.height for s in accumulator.build_frames().values())
    return {"seconds": time.perf_counter() - start, "records": records, "flows": accepted, "edges": edges,
            "cpu": time.process_time() - cpu}


def _bare_polars(fmt: str, path: Path) -> dict[str, Any]:
    start = time.perf_counter()
    if fmt == "csv":
        frame, keys = pl.read_csv(path), ["src_ip", "dst_ip", "dst_port", "protocol"]
    elif fmt == "zeek_tsv":
        frame = pl.read_csv(path, separator="\t", comment_prefix="#", has_header=False, new_columns=ZEEK_FIELDS,
                            quote_char=None)
        keys = ["id.orig_h", "id.resp_h", "id.resp_p", "proto"]
    elif fmt == "vpc":
        frame, keys = pl.read_csv(path, separator=" ", quote_char=None), ["srcaddr", "dstaddr", "dstport", "protocol"]
    else:
        flow = pl.read_ndjson(path).select(pl.col("flow").struct.unnest())
        frame = flow.select(
            src=pl.col("IP").struct.field("source"), dst=pl.col("IP").struct.field("destination"),
            port=pl.col("l4").struct.field("TCP").struct.field("destination_port"),
            udp=pl.col("l4").struct.field("UDP").is_not_null(),
        )
        keys = ["src", "dst", "port", "udp"]
    edges = frame.group_by(keys).agg(pl.len()).height
    return {"seconds": time.perf_counter() - start, "records": frame.height, "flows": frame.height, "edges": edges}


def _store(fmt: str, path: Path, *, conns: bool = True) -> dict[str, Any]:
    import os
    from datetime import UTC, datetime, timedelta

    from jobs.engines.flows import iter_batches
    from jobs.runtime.prefetch import prefetched
    from jobs.stores import flows as store
    from jobs.tasks.ingest import BATCH_ROWS
    from models.settings import get_settings

    real_rows = store.connection_rows
    if not conns:  # every connection partial comes out empty, so none is written
        store.connection_rows = lambda frame: real_rows(frame.clear())
    with tempfile.TemporaryDirectory(prefix="bench-store-") as data:
        os.environ["SG_DATA_DIR"] = data
        get_settings.cache_clear()
        start, cpu = time.perf_counter(), time.process_time()
        writer, records, accepted = None, 0, 0
        for batch in prefetched(iter_batches(path, fmt, batch_rows=BATCH_ROWS)):  # type: ignore[arg-type]
            records, accepted = records + batch.records, accepted + batch.accepted
            writer = writer or store.UploadWriter(tenant_id=1, upload_id=1, fmt=batch.format)
            writer.add(batch.frame)
        partitions = writer.commit() if writer else []
        seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
        sizes = {part: sum(f.stat().st_size for f in Path(data).rglob(f"*-{part}.parquet"))
                 for part in ("edges", "nodes", "conns")}
        hour = datetime.fromtimestamp(START_US // 1_000_000, tz=UTC)
        read = time.perf_counter()
        window = store.read_connections(1, hour, 3600)
        read_s = time.perf_counter() - read
        end = hour + timedelta(hours=1)
        assert window.filter((pl.col("ts_start") < hour) | (pl.col("ts_start") >= end)).height == 0
    store.connection_rows = real_rows
    return {"seconds": seconds, "cpu": cpu_s, "records": records, "flows": accepted, "partitions": len(partitions),
            **{f"{part}_bytes": size for part, size in sizes.items()},
            "conns_b_per_flow": sizes["conns"] / max(accepted, 1), "read_s": read_s, "read_flows": window.height}


def _store_without_conns(fmt: str, path: Path) -> dict[str, Any]:
    return _store(fmt, path, conns=False)


MEASURES = {"ours": _ours, "stream": _stream, "polars": _bare_polars, "store": _store,
            "store-noconns": _store_without_conns}


def measure(mode: str, fmt: str, path: Path, repeat: int) -> dict[str, Any]:
    """Best-of-`repeat` timing of one mode on one file, with this process's peak RSS."""
    importlib.import_module("jobs.engines.snapshot.builder")  # import time is not ingestion time
    best = min((MEASURES[mode](fmt, path) for _ in range(repeat)), key=lambda run: run["seconds"])
    # VmHWM is this process's own peak; ru_maxrss would include the parent that forked it.
    best["peak_rss_mb"] = next(
        int(line.split()[1]) / 1024 for line in Path("/proc/self/status").read_text().splitlines() if "VmHWM" in line
    )
    return best


def table(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    columns = [("ours", "records", ","), ("ours", "edges", ","), ("ours", "parse", ".2f"), ("ours", "aggregate", ".2f"),
               ("ours", "seconds", ".2f"), ("ours", "cpu", ".2f"), ("ours", "rate", ",.0f"), ("stream", "rate", ",.0f"),
               ("stream", "peak_rss_mb", ",.0f"), ("polars", "seconds", ".2f"), ("polars", "rate", ",.0f"),
               ("store", "rate", ",.0f"), ("store", "cpu", ".2f"), ("store", "conns_b_per_flow", ".1f"),
               ("store", "read_flows", ","), ("store", "read_s", ".3f"), ("store-noconns", "rate", ",.0f"),
               ("store-noconns", "cpu", ".2f")]
    lines = [
        "| format | file MB | flows | window-edges | parse s | aggregate s | total s | CPU s | flows/s "
        "| stream flows/s | stream peak RSS MB | bare polars s | bare polars flows/s | store flows/s | store CPU s "
        "| conns B/flow | first hour's flows | read_connections s | store without conns flows/s | its CPU s |",
        "|---|" + "---:|" * 19,
    ]
    for row in rows:
        for run in (row.get(mode) for mode in MODES):
            if run:
                run["rate"] = run["records"] / run["seconds"]
        cells = [format(row[mode][key], spec) if key in row.get(mode, {}) else "–" for mode, key, spec in columns]
        lines.append(f"| {row['format']} | {row['mb']:.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="flows per generated file")
    parser.add_argument("--edges", type=int, default=20_000, help="distinct edge templates")
    parser.add_argument("--hours", type=int, default=4, help="time span of the flows (hourly windows)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per measurement")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--modes", nargs="+", default=list(DEFAULT_MODES), choices=MODES)
    parser.add_argument("--files", type=Path, help="reuse (or keep) the generated files in this folder")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FORMAT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1], Path(args.child[2]), args.repeat)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as temp:
        folder = args.files or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {fmt: folder / f"flows.{fmt}" for fmt in args.formats}
        missing = [fmt for fmt, path in paths.items() if not path.exists()]
        if missing:
            write_files(flows(args.rows, args.edges, args.hours), folder, missing)
        rows = []
        for fmt, path in paths.items():
            row: dict[str, Any] = {"format": fmt, "mb": path.stat().st_size / 1e6}
            for mode in args.modes:
                command = [sys.executable, __file__, "--child", mode, fmt, str(path), "--repeat", str(args.repeat)]
                output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                row[mode] = json.loads(output.strip().splitlines()[-1])
                print(f"{fmt} {mode}: {row[mode]}", file=sys.stderr)
            rows.append(row)
    print(table(rows))


if __name__ == "__main__":
    main()
