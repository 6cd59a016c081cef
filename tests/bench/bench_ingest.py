"""Benchmark flow ingestion: parse + aggregate vs a bare polars read + group-by of the same file.

Generates a realistic flow file per format (canonical CSV, Zeek TSV, Hubble JSON, VPC v2) in a
temp dir, then measures, each in a fresh subprocess (so peak memory is per measurement):

- ours:   parse_file + build_snapshots (validated canonical frame, hourly snapshots as records)
- stream: iter_batches(batch_rows=500k) + SnapshotAccumulator (bounded memory)
- polars: polars' own reader + group_by on (src, dst, dst_port, protocol): no validation

    .venv/bin/python tests/bench/bench_ingest.py --rows 1000000
    .venv/bin/python tests/bench/bench_ingest.py --rows 10000000 --formats zeek_tsv --modes stream
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

FORMATS = ("csv", "zeek_tsv", "hubble", "vpc")
MODES = ("ours", "stream", "polars")
START_US = 1_713_484_800_000_000  # 2024-04-19T00:00:00Z
NAMESPACES = ("shop", "payments", "search", "identity", "platform", "monitoring", "kube-system", "data")
SAFE = "bcdfghjklmnpqrstvwxz2456789"
ZEEK_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents"]
ZEEK_TYPES = ["time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count", "count", "string", "bool", "bool", "count", "string", "count", "count", "count", "count", "set[string]"]
VPC_HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)


# ---------------------------------------------------------------- data generation


def hosts(internal: int = 1800, external: int = 3200) -> pl.DataFrame:
    """Pods (with namespace, workload, labels) and internet hosts."""
    i = pl.col("i")
    workload = (i // 3).cast(pl.Utf8)
    pods = pl.DataFrame({"i": range(internal)}).select(
        ip=fill("10.244.§.§", i // 200, i % 200 + 10),
        namespace=pl.lit(pl.Series(NAMESPACES)).gather(i % len(NAMESPACES)),
        workload=pl.concat_str(pl.lit("svc-"), workload, pl.lit("-v1")),
        pod=pl.concat_str(pl.lit("svc-"), workload, pl.lit("-v1-7d4b9c8f6d-"), _safe_suffix(i)),
        external=pl.lit(False),
    )
    j = pl.col("j")
    internet = pl.DataFrame({"j": range(external)}).select(
        ip=fill("§.§.§.§", j % 180 + 23, (j * 7) % 250 + 1, (j * 13) % 250 + 1, j % 250 + 1),
        namespace=pl.lit(None, pl.Utf8), workload=pl.lit(None, pl.Utf8), pod=pl.lit(None, pl.Utf8),
        external=pl.lit(True),
    )
    return pl.concat([pods, internet]).with_row_index("host")


def _safe_suffix(i: pl.Expr) -> pl.Expr:
    letters = pl.lit(pl.Series(list(SAFE)))
    return pl.concat_str([letters.gather((i // len(SAFE) ** k) % len(SAFE)) for k in range(5)])


def flows(rows: int, edges: int, hours: int) -> pl.DataFrame:
    """`rows` flows over `hours` hours on `edges` edge templates with a heavy-tailed popularity."""
    table = hosts()
    n_hosts, n_internal = table.height, 1800
    e = pl.int_range(0, edges, eager=True)
    templates = pl.DataFrame({"edge": e}).select(
        "edge",
        src=(e.hash(1) % n_internal).cast(pl.UInt32),  # clients are mostly pods
        dst=(e.hash(2) % n_hosts).cast(pl.UInt32),
        dst_port=pl.lit(pl.Series([443, 80, 53, 5432, 6379, 8080, 9090, 22])).gather(e.hash(3) % 8).cast(pl.Int32),
    ).with_columns(protocol=pl.when(pl.col("dst_port") == 53).then(pl.lit("udp")).otherwise(pl.lit("tcp")))
    idx = pl.int_range(0, rows, eager=True)
    u = (idx.hash(4) % 1_000_003).cast(pl.Float64) / 1_000_003
    frame = pl.DataFrame({
        "edge": (u * u * u * edges).cast(pl.Int64),
        "ts_us": START_US + idx * (hours * 3_600_000_000 // rows),
        "h": idx.hash(5),
    })
    frame = frame.join(templates, on="edge", how="left", maintain_order="left")
    for side, column in (("src", "src"), ("dst", "dst")):
        named = table.rename({c: f"{side}_{c}" for c in table.columns if c != "host"})
        frame = frame.join(named, left_on=column, right_on="host", how="left", maintain_order="left")
    return frame.with_columns(
        src_port=(pl.col("h") % 28_000 + 32_768).cast(pl.Int32),
        orig_bytes=(pl.col("h") % 4_000).cast(pl.Int64),
        resp_bytes=(pl.col("h") // 7 % 60_000).cast(pl.Int64),
        orig_pkts=(pl.col("h") % 9 + 1).cast(pl.Int64),
        resp_pkts=(pl.col("h") // 11 % 40).cast(pl.Int64),
        duration_us=(pl.col("h") % 5_000_000).cast(pl.Int64),
        rejected=pl.col("h") % 20 == 0,
        reply=pl.col("h") % 5 < 2,
    )


def write_files(frame: pl.DataFrame, folder: Path, formats: list[str]) -> dict[str, Path]:
    writers = {"csv": _write_csv, "zeek_tsv": _write_zeek, "hubble": _write_hubble, "vpc": _write_vpc}
    paths = {}
    for fmt in formats:
        paths[fmt] = folder / f"flows.{fmt}"
        writers[fmt](frame, paths[fmt])
    return paths


def _write_lines(header: str, lines: pl.Series, path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        if header:
            handle.write(header)
        for chunk in lines.to_frame("l").iter_slices(200_000):
            chunk.write_csv(handle, include_header=False, quote_style="never")


def _ts(us: pl.Expr) -> pl.Expr:
    return fill("§.§", us // 1_000_000, (us % 1_000_000).cast(pl.Utf8).str.zfill(6))


def _write_csv(frame: pl.DataFrame, path: Path) -> None:
    frame.select(
        ts_start=pl.col("ts_us").cast(pl.Datetime("us", "UTC")),
        ts_end=(pl.col("ts_us") + pl.col("duration_us")).cast(pl.Datetime("us", "UTC")),
        src_ip="src_ip", src_port="src_port", dst_ip="dst_ip", dst_port="dst_port", protocol="protocol",
        bytes=pl.col("orig_bytes") + pl.col("resp_bytes"), packets=pl.col("orig_pkts") + pl.col("resp_pkts"),
        action=pl.when("rejected").then(pl.lit("reject")).otherwise(pl.lit("accept")),
    ).write_csv(path)


def _write_zeek(frame: pl.DataFrame, path: Path) -> None:
    header = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    header += "#open\t2024-04-19-00-00-00\n#fields\t" + "\t".join(ZEEK_FIELDS) + "\n"
    header += "#types\t" + "\t".join(ZEEK_TYPES) + "\n"
    rejected = pl.col("rejected")
    line = pl.concat_str([
        _ts(pl.col("ts_us")), fill("C§", pl.col("h") % 10**15), "src_ip", "src_port", "dst_ip",
        "dst_port", "protocol", pl.lit("-"), _ts(pl.col("duration_us")),
        pl.when(rejected).then(0).otherwise("orig_bytes"), pl.when(rejected).then(0).otherwise("resp_bytes"),
        pl.when(rejected).then(pl.lit("REJ")).otherwise(pl.lit("SF")), pl.lit("T"), pl.lit("F"), pl.lit("0"),
        pl.lit("ShADadFf"), "orig_pkts", pl.col("orig_bytes") + 40 * pl.col("orig_pkts"), "resp_pkts",
        pl.col("resp_bytes") + 40 * pl.col("resp_pkts"), pl.lit("-"),
    ], separator="\t")
    _write_lines(header, frame.select(line)[:, 0], path)


def _write_vpc(frame: pl.DataFrame, path: Path) -> None:
    line = pl.concat_str([
        pl.lit("2 123456789012"), fill("eni-§", pl.col("src") + 100000), "src_ip", "dst_ip", "src_port",
        "dst_port", pl.when(pl.col("protocol") == "udp").then(pl.lit("17")).otherwise(pl.lit("6")),
        pl.col("orig_pkts") + pl.col("resp_pkts"), pl.col("orig_bytes") + pl.col("resp_bytes"),
        pl.col("ts_us") // 1_000_000, (pl.col("ts_us") + pl.col("duration_us")) // 1_000_000 + 60,
        pl.when("rejected").then(pl.lit("REJECT")).otherwise(pl.lit("ACCEPT")), pl.lit("OK"),
    ], separator=" ")
    _write_lines(VPC_HEADER + "\n", frame.select(line)[:, 0], path)


def fill(template: str, *values: pl.Expr | str) -> pl.Expr:
    """`template` with each `§` replaced by the next value (literal braces stay literal)."""
    pieces = template.split("§")
    if len(pieces) != len(values) + 1:
        raise ValueError("placeholder count does not match the values")
    parts: list[pl.Expr] = [pl.lit(pieces[0])]
    for value, piece in zip(values, pieces[1:], strict=True):
        parts += [pl.col(value) if isinstance(value, str) else value, pl.lit(piece)]
    return pl.concat_str([part.cast(pl.Utf8) for part in parts])


def _endpoint(side: str) -> pl.Expr:
    ns, pod, workload = pl.col(f"{side}_namespace"), pl.col(f"{side}_pod"), pl.col(f"{side}_workload")
    labels = fill(
        '"k8s:app=§","k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=§",'
        '"k8s:io.cilium.k8s.policy.cluster=default","k8s:io.cilium.k8s.policy.serviceaccount=§",'
        '"k8s:io.kubernetes.pod.namespace=§","k8s:version=v1"', workload, ns, workload, ns,
    )
    pod_json = fill(
        '{"ID":§,"identity":§,"namespace":"§","labels":[§],"pod_name":"§"}',
        pl.col(side) + 100, pl.col(side) + 20000, ns, labels, pod,
    )
    world = pl.lit('{"identity":2,"labels":["reserved:world"]}')
    return pl.when(pl.col(f"{side}_external")).then(world).otherwise(pod_json)


def _write_hubble(frame: pl.DataFrame, path: Path) -> None:
    time_text = pl.col("ts_us").cast(pl.Datetime("us", "UTC")).dt.strftime("%Y-%m-%dT%H:%M:%S%.9fZ")
    reply = pl.col("reply")
    l4_key = pl.when(pl.col("protocol") == "udp").then(pl.lit("UDP")).otherwise(pl.lit("TCP"))
    a = [pl.col("src_ip"), pl.col("dst_ip"), pl.col("src_port"), pl.col("dst_port"), _endpoint("src"), _endpoint("dst")]
    # Reply flows swap the endpoints, as Hubble reports them.
    ips = [pl.when(reply).then(a[1 - k]).otherwise(a[k]) for k in (0, 1)]
    ports = [pl.when(reply).then(a[3 - k]).otherwise(a[2 + k]) for k in (0, 1)]
    eps = [pl.when(reply).then(a[5 - k]).otherwise(a[4 + k]) for k in (0, 1)]
    line = fill(
        '{"flow":{"time":"§","verdict":"§","ethernet":{"source":"46:e5:ea:1f:95:ff",'
        '"destination":"d6:ec:b0:4a:ff:46"},"IP":{"source":"§","destination":"§","ipVersion":"IPv4"},'
        '"l4":{"§":{"source_port":§,"destination_port":§,"flags":{"PSH":true,"ACK":true}}},'
        '"source":§,"destination":§,"Type":"L3_L4","node_name":"kind-worker",'
        '"event_type":{"type":4},"traffic_direction":"EGRESS","trace_observation_point":"TO_STACK",'
        '"is_reply":§,"interface":{"index":12,"name":"lxc8a1b2c3d4e5f"},"Summary":"TCP Flags: ACK, PSH"},'
        '"node_name":"kind-worker","time":"§"}',
        time_text, pl.when("rejected").then(pl.lit("DROPPED")).otherwise(pl.lit("FORWARDED")),
        ips[0], ips[1], l4_key, ports[0], ports[1], eps[0], eps[1],
        pl.when(reply).then(pl.lit("true")).otherwise(pl.lit("false")), time_text,
    )
    _write_lines("", frame.select(line)[:, 0], path)


# ---------------------------------------------------------------- measurements (child process)


def measure(mode: str, fmt: str, path: Path, repeat: int) -> dict[str, Any]:
    """Best-of-`repeat` timing of one mode on one file, with this process's peak RSS."""
    best: dict[str, Any] = {}
    for _ in range(repeat):
        result = {"ours": _ours, "stream": _stream, "polars": _bare_polars}[mode](fmt, path)
        if not best or result["seconds"] < best["seconds"]:
            best = result
    best["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return best


def _ours(fmt: str, path: Path) -> dict[str, Any]:
    from jobs.flows import parse_file
    from jobs.snapshot.builder import build_snapshots

    start = time.perf_counter()
    result = parse_file(path, fmt)  # type: ignore[arg-type]
    parsed = time.perf_counter()
    snapshots = build_snapshots(result.frame)
    done = time.perf_counter()
    return {
        "seconds": done - start, "parse": parsed - start, "aggregate": done - parsed,
        "records": result.records, "flows": result.accepted,
        "edges": sum(len(s.edges) for s in snapshots.values()),
    }


def _stream(fmt: str, path: Path) -> dict[str, Any]:
    from jobs.flows import iter_batches
    from jobs.snapshot.builder import SnapshotAccumulator

    start = time.perf_counter()
    accumulator = SnapshotAccumulator()
    records = accepted = 0
    for batch in iter_batches(path, fmt, batch_rows=500_000):  # type: ignore[arg-type]
        records += batch.records
        accepted += batch.accepted
        accumulator.add(batch.frame)
    snapshots = accumulator.build()
    return {
        "seconds": time.perf_counter() - start, "records": records, "flows": accepted,
        "edges": sum(len(s.edges) for s in snapshots.values()),
    }


def _bare_polars(fmt: str, path: Path) -> dict[str, Any]:
    start = time.perf_counter()
    if fmt == "csv":
        frame = pl.read_csv(path)
        keys = ["src_ip", "dst_ip", "dst_port", "protocol"]
    elif fmt == "zeek_tsv":
        frame = pl.read_csv(path, separator="\t", comment_prefix="#", has_header=False,
                            new_columns=list(ZEEK_FIELDS), quote_char=None)
        keys = ["id.orig_h", "id.resp_h", "id.resp_p", "proto"]
    elif fmt == "vpc":
        frame = pl.read_csv(path, separator=" ", quote_char=None)
        keys = ["srcaddr", "dstaddr", "dstport", "protocol"]
    else:
        flow = pl.read_ndjson(path).select(pl.col("flow").struct.unnest())
        frame = flow.select(
            src=pl.col("IP").struct.field("source"), dst=pl.col("IP").struct.field("destination"),
            port=pl.col("l4").struct.field("TCP").struct.field("destination_port"),
            proto=pl.col("l4").struct.field("UDP").is_null(),
        )
        keys = ["src", "dst", "port", "proto"]
    edges = frame.group_by(keys).agg(pl.len())
    return {"seconds": time.perf_counter() - start, "records": frame.height, "flows": frame.height,
            "edges": edges.height}


# ---------------------------------------------------------------- orchestration


def run_child(mode: str, fmt: str, path: Path, repeat: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", mode, fmt, str(path), "--repeat", str(repeat)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| format | file MB | flows | window-edges | ours parse s | ours aggregate s | ours total s "
        "| ours flows/s | stream flows/s | stream peak RSS MB | bare polars s | bare polars flows/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours, stream, bare = row.get("ours", {}), row.get("stream", {}), row.get("polars", {})

        def rate(result: dict[str, Any]) -> str:
            return f"{result['records'] / result['seconds']:,.0f}" if result else "–"

        def num(result: dict[str, Any], key: str, spec: str = ".2f") -> str:
            return format(result[key], spec) if key in result else "–"

        lines.append(
            f"| {row['format']} | {row['mb']:.0f} | {num(ours, 'records', ',')} | {num(ours, 'edges', ',')} "
            f"| {num(ours, 'parse')} | {num(ours, 'aggregate')} | {num(ours, 'seconds')} | {rate(ours)} "
            f"| {rate(stream)} | {num(stream, 'peak_rss_mb', ',.0f')} | {num(bare, 'seconds')} | {rate(bare)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="flows per generated file")
    parser.add_argument("--edges", type=int, default=20_000, help="distinct edge templates")
    parser.add_argument("--hours", type=int, default=4, help="time span of the flows (hourly windows)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per measurement")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FORMAT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, fmt, path = args.child
        print(json.dumps(measure(mode, fmt, Path(path), args.repeat)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        started = time.perf_counter()
        paths = write_files(flows(args.rows, args.edges, args.hours), Path(folder), args.formats)
        print(f"generated {args.rows:,} flows per format in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        rows = []
        for fmt, path in paths.items():
            row: dict[str, Any] = {"format": fmt, "mb": path.stat().st_size / 1e6}
            for mode in args.modes:
                row[mode] = run_child(mode, fmt, path, args.repeat)
                print(f"{fmt} {mode}: {row[mode]}", file=sys.stderr)
            rows.append(row)
    print(table(rows))


if __name__ == "__main__":
    main()
