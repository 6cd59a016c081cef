"""Issue 17 detection scorecard: labeled public captures through the real parsers and the detection engines.

    .venv/bin/python tests/bench/bench_detection.py [--data ../shared/data] [--edges 50000] [--top 10] [--with-drift]

Captures (see ../shared/data/SOURCES.md):
- labeled/stratosphere-008-zeek-mixed: one day of a Windows PC on a public address (147.32.81.167). Its
  `label`/`detailedlabel` columns are cut from the text before the parser sees it and kept aside as ground
  truth; a malicious item is a source whose flows are labelled Malicious (the internet scanning the PC).
- zeek/rita-missing-host: three days of an internet-facing sensor (64.225.56.201). Ground truth is the one
  beacon its publisher describes; the bench finds which pair it is from the data (printed with the reason).

Each capture is parsed with `jobs.engines.flows.parse_file`; the Zeek fields the canonical frame lacks
(`conn_state`, `history`, `resp_pkts`, `orig_bytes`, `local_orig`/`local_resp`) are read from the same text
and joined by position. Then hourly windows go through `jobs.engines.detect.pipeline.detect_window`, and
incidents are grouped and ranked per sensor-day. Printed: incidents per sensor-day, the top incidents with
their summaries, recall and precision@10/@50, the rank of each known malicious item, what benign traffic
raises after the learning day, and the engines' timings (real windows and synthetic 50k-edge windows).

`--with-drift` also runs each capture through the chain the product runs (tests/unit/detect/chain.py):
detection, then drift deferring to it (docs/detection.md decision 5), its events folded into incidents, and
prints incidents per sensor-day with drift folded in, drift's events with and without the deferral, and the
rank of the known items.
"""

from __future__ import annotations

import argparse
import gzip
import io
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jobs.engines.detect.answered import zeek_answered
from jobs.engines.detect.frame import prepare
from jobs.engines.detect.home import HomeNetworks
from jobs.engines.detect.incidents import Incident, group_incidents
from jobs.engines.detect.pipeline import DetectionState, detect_window
from jobs.engines.detect.ranking import Ranked, rank_incidents
from jobs.engines.detect.records import Finding
from jobs.engines.flows import parse_file
from tests.unit.detect.chain import day_rankings as chain_rankings
from tests.unit.detect.chain import run_chain, strip_labels

DAY, HOUR = 86_400.0, 3600.0
LABELED = "labeled/stratosphere-008-zeek-mixed/conn.log.labeled"
RITA = "zeek/rita-missing-host"
# a pair needs a few intervals before "within 200-350 s" says anything about it
MIN_PAIR_CONNECTIONS = 10
RAW_FIELDS = ("id.orig_h", "id.resp_h", "id.resp_p", "conn_state", "history", "resp_pkts", "orig_bytes",
              "resp_bytes", "local_orig", "local_resp", "service")


@dataclass
class Capture:
    """A parsed capture: the detection frame (time-sorted) and what the engines never see."""

    name: str
    frame: pl.DataFrame
    truth: pl.DataFrame  # per flow, aligned with `frame`: label, service, local_orig/local_resp, originator
    start: float
    end: float
    canonical: pl.DataFrame  # what the parser gave, for the chain with drift
    home: HomeNetworks


def raw_fields(text: str) -> pl.DataFrame:
    """The Zeek fields the canonical frame does not carry, read from the same text, one row per data line."""
    fields = next(line for line in text.splitlines() if line.startswith("#fields")).split("\t")[1:]
    frame = pl.read_csv(io.StringIO(text), separator="\t", comment_prefix="#", has_header=False, new_columns=fields,
                        infer_schema=False, quote_char=None)
    return frame.select([pl.col(f) if f in fields else pl.lit(None, pl.Utf8).alias(f) for f in RAW_FIELDS])


def parsed(text: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(canonical frame, raw fields), checked to describe the same flows with the same `answered` and `orig_bytes`."""
    result = parse_file(text.encode())
    raw = raw_fields(text)
    if result.rejected or result.frame.height != raw.height:
        raise AssertionError(f"parser kept {result.frame.height} of {raw.height} records ({result.rejected} bad)")
    frame = result.frame
    kept = (frame["src_ip"] == raw["id.orig_h"]) & (frame["dst_ip"] == raw["id.resp_h"])
    swapped = ~kept & (frame["src_ip"] == raw["id.resp_h"]) & (frame["dst_ip"] == raw["id.orig_h"])
    if not (kept | swapped).all():
        raise AssertionError("the parser's rows and the raw lines are not in the same order")
    # A record that names the server as originator is swapped by the parser (flows.zeek_direction): its
    # local_orig/local_resp swap with it, and its client's bytes are Zeek's resp_bytes.
    turn = pl.lit(swapped)
    raw = raw.with_columns(pl.when(turn).then(pl.col("local_resp")).otherwise(pl.col("local_orig")).alias("local_orig"),
                           pl.when(turn).then(pl.col("local_orig")).otherwise(pl.col("local_resp")).alias("local_resp"))
    # The parsers give `answered` and `orig_bytes` now; they must agree with the raw fields read here.
    extra = raw.select(zeek_answered(pl.col("conn_state"), pl.col("history"), pl.col("resp_pkts")),
                       pl.when(turn).then(pl.col("resp_bytes")).otherwise(pl.col("orig_bytes"))
                       .cast(pl.Int64, strict=False).alias("orig_bytes"))
    for column in ("answered", "orig_bytes"):
        if not result.frame[column].equals(extra[column]):
            raise AssertionError(f"the parser's {column} differs from the raw Zeek fields")
    return result.frame, raw


def load(name: str, texts: Sequence[str], labels: Sequence[str] | None, home: HomeNetworks) -> Capture:
    """Parse every text, prepare one detection frame, keep the ground truth beside it (same order)."""
    frames, raws = zip(*(parsed(t) for t in texts), strict=True)
    canonical, raw = pl.concat(frames), pl.concat(raws)
    truth = raw.with_columns(pl.Series("label", labels if labels is not None else [None] * raw.height, pl.Utf8))
    kept = ("label", "local_orig", "local_resp", "service", "originator")
    both = prepare(canonical, home).with_columns(truth.select(*kept[:-1], pl.col("id.orig_h").alias("originator")))
    both = both.with_row_index("_row").sort("ts", maintain_order=True)
    frame = both.drop(*kept, "_row")
    start, end = float(frame["ts"].min()), float(frame["ts"].max())  # type: ignore[arg-type]
    return Capture(name, frame, both.select(*kept), start, end, canonical,
                   home)


@dataclass
class Run:
    """Findings of every window, with the engines' time per window."""

    findings: list[Finding]
    window_ms: list[float]


def run(capture: Capture) -> Run:
    """Hourly windows (aligned to the hour) through `detect_window`, the state carried along."""
    hour0 = capture.start // HOUR * HOUR
    windows = capture.frame.with_columns(((pl.col("ts") - hour0) // HOUR).cast(pl.Int64).alias("_w"))
    state, findings, times = DetectionState(), [], []
    for (index,), window in windows.partition_by("_w", as_dict=True, maintain_order=True).items():
        began = time.perf_counter()
        found, state = detect_window(state, window.drop("_w"), window_end=hour0 + (index + 1) * HOUR)
        times.append(1000 * (time.perf_counter() - began))
        findings += found
    return Run(findings, times)


def day_bounds(capture: Capture, day: int) -> tuple[float, float]:
    """Sensor-day `day` (0-based) from the first flow; the last day takes a tail shorter than an hour."""
    last = sensor_days(capture) - 1
    return capture.start + day * DAY, capture.end + 1 if day == last else capture.start + (day + 1) * DAY


def day_ranking(findings: Sequence[Finding], bounds: tuple[float, float]) -> list[Ranked]:
    """Incidents as an analyst sees them at the end of a sensor-day (findings reported by then), those active
    that day, in rank order."""
    day_start, day_end = bounds
    incidents = group_incidents([f for f in findings if f.last_ts < day_end])
    active = [i for i in incidents if i.last_seen >= day_start]
    return rank_incidents(active)


def sensor_days(capture: Capture) -> int:
    """Sensor-days the capture spans: a partial last day counts (28 h are 2), a tail under an hour does not."""
    return max(1, math.ceil((capture.end - capture.start - HOUR) / DAY))


def print_days(capture: Capture, result: Run, top: int) -> dict[int, list[Ranked]]:
    """Incidents per sensor-day and the top incidents of each day with their summaries."""
    rankings = {}
    for day in range(sensor_days(capture)):
        bounds = day_bounds(capture, day)
        ranked = day_ranking(result.findings, bounds)
        rankings[day] = ranked
        new = [r for r in ranked if r.incident.first_reported >= bounds[0]]
        severities = Counter(r.incident.severity for r in ranked)
        print(f"  day {day + 1}: {len(ranked)} incidents to read ({len(new)} new), by severity {dict(severities)}")
        for r in ranked[:top]:
            print(f"    #{r.rank:<2} {r.score:5.1f} {r.incident.severity:<8} {r.incident.kind:<11} {r.incident.summary}")
    return rankings


def print_agreement(capture: Capture) -> None:
    """How often our direction matches Zeek's own local_orig/local_resp (the sensor's Site::local_nets)."""
    zeek = pl.when((pl.col("local_orig") == "T") & (pl.col("local_resp") == "T")).then(pl.lit("internal")).when(
        pl.col("local_orig") == "T").then(pl.lit("outbound")).when(pl.col("local_resp") == "T").then(
        pl.lit("inbound")).when((pl.col("local_orig") == "F") & (pl.col("local_resp") == "F")).then(pl.lit("transit"))
    both = capture.truth.select(zeek.alias("zeek")).with_columns(capture.frame["direction"]).drop_nulls("zeek")
    same = both.filter(pl.col("zeek") == pl.col("direction")).height
    print(f"  direction agrees with Zeek's local_orig/local_resp on {same:,} of {both.height:,} flows "
          f"({100 * same / max(both.height, 1):.2f} %)")


def print_timings(result: Run) -> None:
    times = sorted(result.window_ms)
    median, p95 = times[len(times) // 2], times[min(len(times) - 1, int(0.95 * len(times)))]
    print(f"  engines per hourly window: median {median:.0f} ms, p95 {p95:.0f} ms, max {times[-1]:.0f} ms "
          f"({len(times)} windows, {sum(times) / 1000:.1f} s in all)")


def score_labeled(capture: Capture, result: Run, top: int) -> None:
    """Recall, precision@k and ranks against the labels; what benign traffic raises after the learning day."""
    labels = capture.truth["label"]
    # a flow's source as Zeek logged it: the parser swaps a record that names the server as originator
    malicious_flows = capture.frame.with_columns(capture.truth["originator"]).filter(labels == "Malicious")
    malicious = set(malicious_flows["originator"].to_list())
    print_days(capture, result, top)
    ranked = rank_incidents(group_incidents(result.findings))
    bad = [len(r.incident.sources & malicious) * 2 >= len(r.incident.sources) > 0 for r in ranked]
    covered = set().union(*(r.incident.sources for r in ranked)) & malicious if ranked else set()
    flows_covered = malicious_flows.filter(pl.col("originator").is_in(list(covered))).height
    print(f"  whole capture: {len(ranked)} incidents over {(capture.end - capture.start) / DAY:.2f} sensor-days "
          f"({len(ranked) / max((capture.end - capture.start) / DAY, 1):.1f} per sensor-day)")
    print(f"  recall: {len(covered)}/{len(malicious)} malicious sources ({100 * len(covered) / len(malicious):.1f} %), "
          f"{flows_covered}/{malicious_flows.height} malicious flows ({100 * flows_covered / malicious_flows.height:.1f} %)")
    for k in (10, 50):
        shown = bad[:k]
        print(f"  precision@{k}: {sum(shown)}/{len(shown)} incidents mostly malicious "
              f"({100 * sum(shown) / max(len(shown), 1):.0f} %; {len(ranked)} incidents in all)")
    best: dict[str, int] = {}
    for r in ranked:
        for source in r.incident.sources & malicious:
            best.setdefault(source, r.rank)
    ranks = Counter(best.values())
    print(f"  rank of each malicious source: {dict(sorted(ranks.items()))} (rank: sources), "
          f"{len(malicious) - len(best)} in no incident")
    heavy = malicious_flows.group_by("originator").len().sort(["len", "originator"], descending=[True, False]).head(8)
    print("  heaviest malicious sources: " + ", ".join(f"{s} ({n} flows) → #{best.get(s, '-')}" for s, n in heavy.rows()))
    after = [f for f in result.findings if f.last_ts >= capture.start + DAY and not f.sources & malicious]
    raised = [r for r in ranked if r.incident.first_reported >= capture.start + DAY
              and not r.incident.sources & malicious and r.incident.severity not in ("info", "low")]
    worst = max((f.severity for f in after), key=["info", "low", "medium", "high", "critical"].index, default="none")
    print(f"  benign traffic after the learning day: {len(after)} findings, highest severity {worst}; "
          f"{len(raised)} new incidents above low")
    print("  critical incidents: " + str(sum(r.incident.severity == "critical" for r in ranked)))


def known_beacon(capture: Capture) -> tuple[tuple[str, str, int], str]:
    """The pair the publisher describes ("an HTTP client … beaconing every 200–350 s"), found in the data."""
    http = capture.frame.with_columns(capture.truth["service"]).filter(pl.col("service") == "http")
    pairs = http.sort("ts").group_by("src_ip", "dst_ip", "dst_port").agg(
        pl.len().alias("n"), pl.col("ts").diff().drop_nulls().alias("iv"))
    pairs = pairs.filter(pl.col("n") >= MIN_PAIR_CONNECTIONS).with_columns(
        pl.col("iv").list.eval(pl.element().is_between(200, 350).mean()).list.first().alias("inside"),
        pl.col("iv").list.median().alias("median"))
    matches = pairs.filter(pl.col("inside") >= 0.9)
    if matches.height != 1:
        raise AssertionError(f"expected one pair to match the publisher's beacon, found {matches.height}")
    src, dst, port, n, _, inside, median = matches.row(0)
    reason = (f"of {pairs.height} http pairs with ≥ {MIN_PAIR_CONNECTIONS} connections, only {src} → {dst}:{port} keeps "
              f"{100 * inside:.0f} % of its intervals within 200–350 s ({n} connections, median {median:.0f} s); "
              f"its source is the publisher's host of interest (73.54.23.243)")
    return (src, dst, port), reason


def score_rita(capture: Capture, result: Run, top: int) -> None:
    """Where the documented beacon ranks each day, and what its incident says."""
    (src, dst, port), reason = known_beacon(capture)
    print(f"  known beacon: {reason}")
    rankings = print_days(capture, result, top)
    entity = f"{src} → {dst}"
    for day, ranked in rankings.items():
        hit = next((r for r in ranked if r.incident.kind == "beacon" and r.incident.entity == entity
                    and r.incident.service == f"{port}/tcp"), None)
        where = f"#{hit.rank} of {len(ranked)} ({hit.incident.severity})" if hit else "not reported"
        print(f"  day {day + 1}: the beacon ranks {where}" + (f": {hit.incident.summary}" if hit and day == 0 else ""))
    ranked = rank_incidents(group_incidents(result.findings))
    print(f"  whole capture: {len(ranked)} incidents over {(capture.end - capture.start) / DAY:.2f} sensor-days; "
          f"critical: {sum(r.incident.severity == 'critical' for r in ranked)}")


def score_with_drift(capture: Capture, top: int, beacon: tuple[str, str, int] | None = None) -> None:
    """Incidents per sensor-day with drift's events folded in, as the product will fold them."""
    began = time.perf_counter()
    chain = run_chain(capture.canonical, capture.home, count_undeferred=True)
    print(f"  chain (detection + drift + folding): {time.perf_counter() - began:.1f} s; drift events: "
          f"{chain.undeferred_events:,} without the home networks and detection's state (ICMP never counts), "
          f"{chain.drift_events:,} with them; {len(chain.detections)} detection findings")
    for day, ranked in enumerate(chain_rankings(chain.findings, chain.start, chain.end), start=1):
        kinds = Counter(r.incident.kind for r in ranked)
        severities = Counter(r.incident.severity for r in ranked)
        where = ""
        if beacon is not None:
            hit = next((r for r in ranked if r.incident.kind == "beacon" and r.incident.service == f"{beacon[2]}/tcp"
                        and r.incident.entity == f"{beacon[0]} → {beacon[1]}"), None)
            where = f"; the known beacon #{hit.rank}" if hit else "; the known beacon not reported"
        print(f"  day {day}: {len(ranked)} incidents with drift folded in, by severity {dict(severities)}, "
              f"by kind {dict(kinds)}{where}")
        for r in ranked[:top]:
            print(f"    #{r.rank:<2} {r.score:5.1f} {r.incident.severity:<8} {r.incident.kind:<13} "
                  f"{r.incident.summary[:160]}")


def synthetic_window(hour: int, edges: int) -> pl.DataFrame:
    """A canonical window of `edges` flows among 5,000 home hosts (2 % to the internet, 3 % unanswered):
    the same edge set every hour, as in bench_drift_chain, each flow at a random second of the hour."""
    import numpy as np

    stable, rng = np.random.default_rng(1), np.random.default_rng(100 + hour)
    src, dst = stable.integers(0, 5000, edges), stable.integers(0, 5000, edges)
    port = stable.choice(np.array([80, 443, 5432, 6379, 8080], dtype=np.int32), edges)
    outside = stable.random(edges) < 0.02
    start = 1_713_484_800.0 + hour * HOUR + rng.uniform(0, HOUR, edges)
    frame = pl.DataFrame({"s": src, "d": dst, "out": outside, "ts": start, "dst_port": port,
                          "bytes": rng.integers(100, 100_000, edges), "answered": rng.random(edges) > 0.03})
    address = [pl.format("10.{}.{}.1", pl.col(c) // 250, pl.col(c) % 250) for c in ("s", "d")]
    internet = pl.format("198.{}.{}.7", pl.col("d") // 250, pl.col("d") % 250)
    us = (pl.col("ts") * 1e6).cast(pl.Int64).cast(pl.Datetime("us", "UTC"))
    return frame.select(
        us.alias("ts_start"), (us + pl.duration(milliseconds=200)).alias("ts_end"), address[0].alias("src_ip"),
        pl.lit(40000, pl.Int32).alias("src_port"), pl.when("out").then(internet).otherwise(address[1]).alias("dst_ip"),
        "dst_port", pl.lit("tcp").alias("protocol"), "bytes", pl.lit(10, pl.Int64).alias("packets"),
        pl.lit("accept").alias("action"), "answered", pl.col("bytes").alias("orig_bytes"),
    )


def time_synthetic(edges: int, history: int) -> None:
    """Two windows of `edges` flows after `history` windows of state: prepare, detect, incidents, timed apart."""
    home, state = HomeNetworks.of(), DetectionState()
    incidents: list[Incident] = []
    began = time.perf_counter()
    for hour in range(history):
        frame = prepare(synthetic_window(hour, edges), home)
        found, state = detect_window(state, frame, window_end=1_713_484_800.0 + (hour + 1) * HOUR)
        incidents = group_incidents(found, open_incidents=incidents)
    rows = 0 if state.beacon_history is None else state.beacon_history.height
    print(f"  warm-up: {history} windows in {time.perf_counter() - began:.1f} s; beacon history {rows:,} rows, "
          f"{len(incidents):,} incidents")
    total = 0.0
    for hour in range(history, history + 2):
        canonical = synthetic_window(hour, edges)
        t0 = time.perf_counter()
        frame = prepare(canonical, home)
        t1 = time.perf_counter()
        end = 1_713_484_800.0 + (hour + 1) * HOUR
        found, state = detect_window(state, frame, window_end=end)
        t2 = time.perf_counter()
        # the open incidents (last seen within a day) take the window's findings, as the job will do
        incidents = group_incidents(found, open_incidents=[i for i in incidents if i.last_seen >= end - DAY])
        rank_incidents(incidents)
        t3 = time.perf_counter()
        total += t3 - t0
        print(f"  window {hour - history + 1}: prepare {1000 * (t1 - t0):.0f} ms, detect {1000 * (t2 - t1):.0f} ms "
              f"({len(found)} findings), incidents {1000 * (t3 - t2):.0f} ms ({len(incidents):,} open incidents)")
    print(f"  two {edges:,}-flow windows: {total:.2f} s of detection engines")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = Path(__file__).resolve().parents[3] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=root)
    parser.add_argument("--edges", type=int, default=50_000, help="flows per synthetic window (0: skip)")
    parser.add_argument("--history", type=int, default=24, help="synthetic windows before the two timed ones")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--with-drift", action="store_true", help="also fold drift's events into the incidents")
    args = parser.parse_args()

    text, labels = strip_labels((args.data / LABELED).read_text())
    labeled = load("labeled", [text], labels, HomeNetworks.of(sensors=["147.32.81.167"]))
    print(f"== {LABELED}: {labeled.frame.height:,} flows, home = private ranges + 147.32.81.167")
    print_agreement(labeled)
    result = run(labeled)
    score_labeled(labeled, result, args.top)
    print_timings(result)
    if args.with_drift:
        score_with_drift(labeled, args.top)

    paths = sorted((args.data / RITA).glob("*/*.log.gz"))
    rita = load("rita", [gzip.decompress(p.read_bytes()).decode() for p in paths], None,
                HomeNetworks.of(sensors=["64.225.56.201"]))
    print(f"\n== {RITA}: {len(paths)} files, {rita.frame.height:,} flows, home = private ranges + 64.225.56.201")
    print_agreement(rita)
    result = run(rita)
    score_rita(rita, result, args.top)
    print_timings(result)
    if args.with_drift:
        score_with_drift(rita, args.top, known_beacon(rita)[0])

    if args.edges:
        print(f"\n== synthetic: {args.edges:,} flows per hourly window (the drift chain budget: 2 s for two windows)")
        time_synthetic(args.edges, args.history)


if __name__ == "__main__":
    main()
