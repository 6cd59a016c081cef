"""Beacons the way RITA finds them, over a rolling history of connections rather than one window.

Per (src, dst, dst_port, protocol) pair the history keeps each connection's start and originator bytes
for `history_s` (a day by default: a 5-minute beacon shows ~288 beats, an hourly one 24). Each window:

1. `extend_history` appends the window's connections and drops those past the history;
2. `score_beacons` takes the pairs the window touched, merges bursts (sockets opened at one beat),
   and gates on the timestamp score in polars for all of them at once;
3. the few that pass get RITA's other scores in numpy (`regularity`): data size, hourly histogram,
   duration; the beacon score is their mean.

Improvements on RITA, with their reasons: the timestamp score is a gate, not a quarter of a mean (in RITA a
pair that is busy all day with constant sizes, a chatty client, scores ~0.8 on the other three alone);
direction weighs the risk (outbound and internal first; inbound only once regular for `inbound_min_hours`);
an all-zero payload is no size evidence (an unanswered C2 stays a beacon); scanners, brute-forcers,
multicast, broadcast, link-local and ICMP answers never qualify; time and resolver polling is capped low.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

import numpy as np
import polars as pl

from jobs.engines.detect.records import (
    Direction,
    Finding,
    as_direction,
    human_bytes,
    human_span,
    number,
    port_label,
)
from jobs.engines.detect.regularity import persistence, statistical_score

PAIR: Final = ["src_ip", "dst_ip", "dst_port", "protocol"]
HISTORY_SCHEMA: Final[dict[str, pl.DataType]] = {
    "src_ip": pl.Utf8(), "dst_ip": pl.Utf8(), "dst_port": pl.Int32(), "protocol": pl.Utf8(),
    "direction": pl.Utf8(), "actor": pl.Utf8(), "ts": pl.Float64(), "orig_bytes": pl.Int64(),
    "answered": pl.Boolean(),
}
# name resolution, time, address assignment and NetBIOS naming are periodic by design on every host; a C2 over
# DNS talks to the resolver on the implant's behalf, so its timing is only visible in dns.log, not here
INFRASTRUCTURE: Final = frozenset({(53, "udp"), (53, "tcp"), (123, "udp"), (67, "udp"), (68, "udp"),
                                   (137, "udp"), (138, "udp")})
# the top of "low": what name/time polling and known habits may reach
LOW_MAX_RISK: Final = 35.0


@dataclass(frozen=True, slots=True)
class BeaconParams:
    """Thresholds of the beacon engine, each with the reason it holds on unseen traffic."""

    history_s: float = 86_400.0
    # quartiles of fewer than 7 intervals are each one or two numbers: no shape to judge
    min_connections: int = 8
    # an HTTP client that opens two sockets per beat, or tcp + icmp together, checks in once
    burst_merge_s: float = 2.0
    # Poisson arrivals (a person, a busy client) score ~0.5 and rarely 0.7 with 8+ intervals; a timer with ±50 %
    # uniform jitter scores ~0.87
    min_ts_score: float = 0.75
    # below this the pair is regular but neither steady in size nor spread over the hours: not worth a look
    min_score: float = 0.6
    # inbound regularity is mostly monitoring and crawlers; only one that lasts half a day is reported
    inbound_min_hours: int = 12
    # an inbound rhythm nobody answers is a scanner's retry schedule on a closed port: nothing of ours takes part
    # (an outbound beacon nobody answers is still a beacon: its C2 server may be down)
    inbound_min_answered: float = 0.5
    # RITA: one connection a second on average is a strobe (a flood, a stuck retry), not a beacon
    strobe_per_day: int = 86_400
    # a beacon reported for a day has been seen by an analyst (its incident stays open with its peak risk)
    habit_after_s: float = 86_400.0

    def __post_init__(self) -> None:
        if self.history_s < 3600 or self.min_connections < 4:
            raise ValueError("history_s must be at least an hour and min_connections at least 4")
        if not 0 < self.min_ts_score < 1 or not 0 < self.min_score < 1:
            raise ValueError("min_ts_score and min_score must lie in (0, 1)")
        if self.burst_merge_s < 0 or self.inbound_min_hours < 1 or self.strobe_per_day < 1:
            raise ValueError("burst_merge_s must be non-negative, inbound_min_hours and strobe_per_day positive")
        if not 0 <= self.inbound_min_answered <= 1:
            raise ValueError("inbound_min_answered must lie in [0, 1]")


@dataclass(frozen=True, slots=True)
class Beacon:
    """One qualifying pair with the statistics that made its score."""

    src: str
    dst: str
    dst_port: int
    protocol: str
    direction: Direction
    connections: int
    beats: int
    first_ts: float
    last_ts: float
    period_s: float
    jitter: float
    ts_score: float
    size_score: float | None
    histogram: float
    duration: float
    score: float
    hours_seen: int
    hours_total: int
    size_mode: int
    size_mode_share: float
    answered_share: float

    @property
    def infrastructure(self) -> bool:
        return (self.dst_port, self.protocol) in INFRASTRUCTURE


def history_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of a detection frame that may belong to a beacon, in the history's columns."""
    keep = ~pl.col("icmp_reply") & ~pl.col("local_scope") & (pl.col("direction") != "transit")
    return frame.filter(keep).select(list(HISTORY_SCHEMA)).cast(HISTORY_SCHEMA)  # type: ignore[arg-type]


def extend_history(history: pl.DataFrame | None, frame: pl.DataFrame, *, now: float,
                   params: BeaconParams | None = None) -> pl.DataFrame:
    """The history with a window's detection frame appended and connections older than `history_s` dropped."""
    params = params or BeaconParams()
    parts = [history_rows(frame)] if history is None else [history, history_rows(frame)]
    return pl.concat(parts, rechunk=False).filter(pl.col("ts") >= now - params.history_s)


def _gate(rows: pl.DataFrame, params: BeaconParams) -> pl.DataFrame:
    """Per pair, the timestamp score of its merged starts (polars, all pairs at once); pairs that pass."""
    gap = pl.col("ts").diff().over(PAIR)
    beats = rows.sort([*PAIR, "ts"]).filter(gap.is_null() | (gap >= params.burst_merge_s))
    iv = pl.col("iv")
    stats = beats.with_columns(gap.alias("iv")).group_by(PAIR).agg(
        pl.len().alias("beats"), iv.quantile(0.25, "linear").alias("q1"), iv.median().alias("q2"),
        iv.quantile(0.75, "linear").alias("q3"), (iv - iv.median()).abs().median().alias("mad"))
    q1, q2, q3, spread = pl.col("q1"), pl.col("q2"), pl.col("q3"), pl.col("q3") - pl.col("q1")
    measurable = (spread > 0) & (spread >= 0.02 * q2) & (q2 != q1) & (q2 != q3)
    skew_score = pl.when(measurable).then(1 - ((q1 + q3 - 2 * q2) / spread).abs().clip(0, 1)).otherwise(1.0)
    mad_score = pl.when(q2 >= 1).then(((q2 - pl.col("mad")) / q2).clip(0, 1)).otherwise(0.0)
    scored = stats.with_columns(((skew_score + mad_score) / 2).alias("ts_score"))
    return scored.filter((pl.col("beats") >= params.min_connections) & (pl.col("ts_score") >= params.min_ts_score))


def score_beacons(history: pl.DataFrame, *, start: float, end: float, touched: pl.DataFrame | None = None,
                  exclude: Collection[str] = (), params: BeaconParams | None = None) -> list[Beacon]:
    """The beacons among the pairs of `touched` (a frame with the PAIR columns; all pairs when None), judged
    over the span [start, end] of the history. `exclude` holds actors (outside scanners and brute-forcers: none
    of their pairs qualify) and "src→dst" pairs (a home host's scan or brute force of one target: that pair
    only, so the same host's beacon elsewhere still shows). Sorted by score, highest first."""
    params = params or BeaconParams()
    rows = history if touched is None else history.join(touched.select(PAIR).unique(), on=PAIR, how="semi")
    if exclude:
        pair = pl.concat_str(pl.col("src_ip"), pl.lit("→"), pl.col("dst_ip"))
        rows = rows.filter(~pl.col("actor").is_in(list(exclude)) & ~pair.is_in(list(exclude)))
    counts = rows.group_by(PAIR).agg(pl.len().alias("connections"))
    days = max((end - start) / 86_400.0, 1 / 24)
    strobes = counts.filter(pl.col("connections") >= params.strobe_per_day * days)
    passed = _gate(rows.join(strobes, on=PAIR, how="anti"), params)
    if passed.height == 0:
        return []
    chosen = rows.join(passed.select(PAIR), on=PAIR, how="semi").sort([*PAIR, "ts"])
    found = [beacon for group in chosen.partition_by(PAIR, maintain_order=True)
             if (beacon := _measure(group, start, end, params)) is not None]
    return sorted(found, key=lambda b: (-b.score, b.src, b.dst, b.dst_port))


def _measure(group: pl.DataFrame, start: float, end: float, params: BeaconParams) -> Beacon | None:
    """RITA's scores of one pair in numpy; None when it does not qualify."""
    ts_all = group["ts"].to_numpy()
    keep = np.concatenate([[True], np.diff(ts_all) >= params.burst_merge_s])
    ts, sizes = ts_all[keep], group["orig_bytes"].to_numpy()[keep].astype(np.float64)
    intervals = np.diff(ts)
    ts_score = statistical_score(intervals, default_mad=1.0)
    size_score = None if float(np.median(sizes)) < 1.0 else statistical_score(sizes, default_mad=0.0)
    held = persistence(ts, start, end)
    direction = as_direction(str(group["direction"][0]))
    answered = number(group["answered"].cast(pl.Float64).mean())
    if direction == "inbound" and (held.hours_seen < params.inbound_min_hours
                                   or answered < params.inbound_min_answered):
        return None
    parts = [ts_score, held.histogram, held.duration] + ([size_score] if size_score is not None else [])
    score = round(sum(parts) / len(parts), 3)
    if score < params.min_score:
        return None
    values, counts = np.unique(sizes, return_counts=True)
    period = float(np.median(intervals))
    jitter = float(np.median(np.abs(intervals - period))) / period if period > 0 else 0.0
    return Beacon(
        src=str(group["src_ip"][0]), dst=str(group["dst_ip"][0]), dst_port=int(group["dst_port"][0]),
        protocol=str(group["protocol"][0]), direction=direction, connections=group.height, beats=len(ts),
        first_ts=float(ts_all[0]), last_ts=float(ts_all[-1]), period_s=period, jitter=round(jitter, 3),
        ts_score=round(ts_score, 3), size_score=None if size_score is None else round(size_score, 3),
        histogram=held.histogram, duration=held.duration, score=score, hours_seen=held.hours_seen,
        hours_total=held.hours_total, size_mode=int(values[counts.argmax()]),
        size_mode_share=round(float(counts.max()) / len(sizes), 3),
        answered_share=round(answered, 3),
    )


def beacon_risk(beacon: Beacon, *, habitual: bool = False) -> float:
    """0-100: outbound and internal beacons medium (high only when near perfect over many beats), inbound low
    to medium, infrastructure and habits low; never critical (a beacon is a question, not proof of a break-in).
    RITA rates a 0.97 beacon "medium" too: periodic software (updaters, push channels) is everywhere."""
    strength = min(1.0, max(0.0, (beacon.score - 0.6) / 0.4))
    # regularity over 8 intervals says less than over 100: random arrivals pass the gate less often the longer
    strength *= 0.7 + 0.3 * min(1.0, math.log10(beacon.beats) / 2)
    if beacon.size_score is None and beacon.answered_share >= 0.5:
        strength *= 0.7  # answered, yet the client never sends a byte: a liveness check, it carries no commands
    risk = 25.0 + 24.0 * strength if beacon.direction == "inbound" else 40.0 + 24.0 * strength
    capped = beacon.infrastructure or habitual
    return round(min(risk, LOW_MAX_RISK) if capped else risk, 1)


def describe_beacon(beacon: Beacon) -> str:
    """"every 4 m 32 s ± 14 %, 313 connections over 24 h, 24/24 hours, same 80 B each time (score 0.95:
    timestamps 0.92, sizes 1.00, hourly spread 0.98, duration 1.00)"."""
    b = beacon
    parts = [f"every {human_span(b.period_s)} ± {round(100 * b.jitter)} %",
             f"{b.connections:,} connections over {human_span(b.last_ts - b.first_ts)}",
             f"{b.hours_seen}/{b.hours_total} hours", _sizes_text(b)]
    if b.answered_share < 0.5:
        parts.append("none answered" if b.answered_share == 0 else f"{round(100 * b.answered_share)} % answered")
    sizes = "no payload" if b.size_score is None else f"{b.size_score:.2f}"
    scores = (f"score {b.score:.2f}: timestamps {b.ts_score:.2f}, sizes {sizes}, hourly spread {b.histogram:.2f}, "
              f"duration {b.duration:.2f}")
    return ", ".join(parts) + f" ({scores})"


def _sizes_text(b: Beacon) -> str:
    if b.size_score is None:
        return "no payload"
    if b.size_mode_share >= 0.9:
        return f"same {human_bytes(b.size_mode)} each time" + ("" if b.size_mode_share == 1 else
                                                              f" ({round(100 * b.size_mode_share)} %)")
    return f"{human_bytes(b.size_mode)} most often ({round(100 * b.size_mode_share)} %)"


def beacon_finding(beacon: Beacon, *, habitual: bool = False) -> Finding:
    """The finding of one beacon: actor = source, target = destination, one per pair and window."""
    b = beacon
    label = port_label(b.dst_port, b.protocol)
    note = ": name/time polling, periodic by design" if b.infrastructure else ": a known habit" if habitual else ""
    explanation = f"{b.src} → {b.dst}:{label} {describe_beacon(b)}: {b.direction} beacon{note}"
    facts = {"period_s": round(b.period_s, 1), "jitter": b.jitter, "ts_score": b.ts_score, "size_score": b.size_score,
             "histogram": b.histogram, "duration": b.duration, "score": b.score, "hours_seen": b.hours_seen,
             "hours_total": b.hours_total, "size_mode": b.size_mode, "size_mode_share": b.size_mode_share,
             "connections": b.connections, "infrastructure": b.infrastructure, "habitual": habitual,
             "summary": describe_beacon(b)}
    return Finding(
        kind="beacon", direction=b.direction, actor=b.src, target=b.dst, service=label,
        first_ts=b.first_ts, last_ts=b.last_ts, attempts=b.connections,
        answered=round(b.answered_share * b.connections), risk=beacon_risk(b, habitual=habitual),
        sources=frozenset({b.src}), hosts=frozenset({b.dst}), ports=frozenset({label}), explanation=explanation,
        facts=facts,
    )
