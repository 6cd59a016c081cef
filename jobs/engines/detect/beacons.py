"""Beacons the way RITA finds them, over a rolling history of connections rather than one window.

Per (src, dst, dst_port, protocol) pair the history keeps each connection's start and originator bytes
for `history_s` (a day by default: a 5-minute beacon shows ~288 beats, an hourly one 24). Each window:

1. `extend_history` appends the window's connections and drops those past the history;
2. `score_beacons` takes the pairs the window touched, merges bursts (sockets opened at one beat),
   and gates on the timestamp score in polars for all of them at once;
3. those that pass get RITA's other scores (`regularity`, also in polars): data size, hourly histogram,
   duration; the beacon score is their mean.

Improvements on RITA, with their reasons: the timestamp score is a gate, not a quarter of a mean (in RITA a
pair that is busy all day with constant sizes, a chatty client, scores ~0.8 on the other three alone);
direction weighs the risk (outbound and internal first; inbound only once regular for `inbound_min_hours`);
an all-zero payload is no size evidence (an unanswered C2 stays a beacon); scanners, brute-forcers,
multicast, broadcast, link-local and ICMP answers never qualify; time and resolver polling is capped low.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from jobs.engines.detect.records import Direction, as_direction, number
from jobs.engines.detect.regularity import persistence, statistical_score

PAIR: Final = ["src_ip", "dst_ip", "dst_port", "protocol"]
HISTORY_SCHEMA: Final[dict[str, pl.DataType]] = {
    "pair_id": pl.UInt64(), "src_ip": pl.Utf8(), "dst_ip": pl.Utf8(), "dst_port": pl.Int32(), "protocol": pl.Utf8(),
    "direction": pl.Utf8(), "actor": pl.Utf8(), "ts": pl.Float64(), "orig_bytes": pl.Int64(),
    "answered": pl.Boolean(),
}
PAIR_ID_SEED: Final = 17
RESCORE_SLOTS: Final = 6
# name resolution, time, address assignment and NetBIOS naming are periodic by design on every host; a C2 over
# DNS talks to the resolver on the implant's behalf, so its timing is only visible in dns.log, not here
INFRASTRUCTURE: Final = frozenset({(53, "udp"), (53, "tcp"), (123, "udp"), (67, "udp"), (68, "udp"),
                                   (137, "udp"), (138, "udp")})


@dataclass(frozen=True, slots=True)
class BeaconParams:
    """Thresholds of the beacon engine, each with the reason it holds on unseen traffic."""

    # RITA judges a day: every hour of the day is in the histogram, and an hourly beacon has 24 beats
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
    # see `_without_pollers`: three targets on one schedule make a poller; two could be a primary and a standby
    poller_min_pairs: int = 3
    # see `_due`: an older pair is judged again every quarter day, as often as a continuing beacon is reported
    rescore_s: float = 21_600.0
    # a beacon reported for a day has been seen by an analyst (its incident stays open with its peak risk)
    habit_after_s: float = 86_400.0

    def __post_init__(self) -> None:
        if self.history_s < 3600 or self.min_connections < 4 or self.rescore_s < 3600:
            raise ValueError("history_s and rescore_s must be at least an hour, min_connections at least 4")
        if not 0 < self.min_ts_score < 1 or not 0 < self.min_score < 1:
            raise ValueError("min_ts_score and min_score must lie in (0, 1)")
        if self.burst_merge_s < 0 or self.inbound_min_hours < 1 or self.strobe_per_day < 1:
            raise ValueError("burst_merge_s must be non-negative, inbound_min_hours and strobe_per_day positive")
        if not 0 <= self.inbound_min_answered <= 1 or self.poller_min_pairs < 2:
            raise ValueError("inbound_min_answered must lie in [0, 1] and poller_min_pairs be at least 2")


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


def pair_id() -> pl.Expr:
    """A 64-bit id of each row's pair: grouping and sorting a day of history on one integer instead of four
    columns (two of them strings) is what keeps a window cheap. It is polars' hash: a history saved under
    another polars version needs `pair_id` recomputed (`history.with_columns(pair_id())`); two pairs of a day
    share an id with odds of about 1e-8 per million pairs."""
    return pl.struct(PAIR).hash(seed=PAIR_ID_SEED).alias("pair_id")


def history_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of a detection frame that may belong to a beacon, in the history's columns."""
    keep = ~pl.col("icmp_reply") & ~pl.col("local_scope") & (pl.col("direction") != "transit")
    rows = frame.filter(keep).with_columns(pair_id())
    return rows.select(list(HISTORY_SCHEMA)).cast(HISTORY_SCHEMA)  # type: ignore[arg-type]


def extend_history(history: pl.DataFrame | None, frame: pl.DataFrame, *, now: float,
                   params: BeaconParams | None = None) -> pl.DataFrame:
    """The history with a window's detection frame appended and connections older than `history_s` dropped."""
    params = params or BeaconParams()
    parts = [history_rows(frame)] if history is None else [history, history_rows(frame)]
    return pl.concat(parts, rechunk=False).filter(pl.col("ts") >= now - params.history_s)


def score_beacons(history: pl.DataFrame, *, start: float, end: float, touched: pl.DataFrame | None = None,
                  exclude: Collection[str] = (), params: BeaconParams | None = None) -> list[Beacon]:
    """The beacons among the pairs of `touched` (a frame with the PAIR columns; all pairs when None), judged
    over the span [start, end] of the history; with `touched`, older pairs are re-scored in turn (`_due`).
    `exclude` holds actors (outside scanners and brute-forcers: none
    of their pairs qualify) and "src→dst" pairs (a home host's scan or brute force of one target: that pair
    only, so the same host's beacon elsewhere still shows). Sorted by score, highest first."""
    params = params or BeaconParams()
    pairs = (history if touched is None else history_rows(touched)).unique("pair_id").select(
        "pair_id", "src_ip", "dst_ip", "direction", "actor")
    if exclude:
        pair = pl.concat_str(pl.col("src_ip"), pl.lit("→"), pl.col("dst_ip"))
        pairs = pairs.filter(~pl.col("actor").is_in(list(exclude)) & ~pair.is_in(list(exclude)))
    # membership by is_in, not a semi-join: on a day of history it is an order of magnitude faster
    rows = history.filter(pl.col("pair_id").is_in(pairs["pair_id"].implode()))
    counts = rows.group_by("pair_id").agg(
        pl.len().alias("connections"), pl.col("ts").min().alias("since"), pl.col("ts").max().alias("until"),
    ).join(pairs, on="pair_id")
    strobe = params.strobe_per_day * max((end - start) / 86_400.0, 1 / 24)
    counts = counts.filter(pl.col("connections").is_between(params.min_connections, strobe, closed="left"))
    siblings = counts.filter(pl.col("direction") == "internal")
    if touched is not None:
        counts = counts.filter(_due(end, params))
    beats = _beats(rows.filter(pl.col("pair_id").is_in(counts["pair_id"].implode())), params)
    stats = _timing(beats, params)
    if stats.height == 0:
        return []
    chosen = beats.filter(pl.col("pair_id").is_in(stats["pair_id"].implode()))
    table = _without_pollers(_scored(stats, chosen, counts, start, end, params), siblings, params)
    found = [_beacon(row) for row in table.iter_rows(named=True)]
    return sorted(found, key=lambda b: (-b.score, b.src, b.dst, b.dst_port))


def _due(end: float, params: BeaconParams) -> pl.Expr:
    """Which pairs a window re-scores: every young pair (first seen within `rescore_s`: a new beacon is found in
    the window it qualifies), and a sixth of the older ones in turn (by pair id), so each is judged again every
    `rescore_s`. A day of history changes little in an hour; scoring every steady pair each window would cost
    most of the drift chain's budget on a large estate."""
    slot = int(end // (params.rescore_s / RESCORE_SLOTS)) % RESCORE_SLOTS
    return (pl.col("since") >= end - params.rescore_s) | (pl.col("pair_id") % RESCORE_SLOTS == slot)


def _beats(rows: pl.DataFrame, params: BeaconParams) -> pl.DataFrame:
    """Each pair's starts with bursts merged (sockets opened within `burst_merge_s` of the previous start), and
    the interval `iv` since the previous beat."""
    # sorted by pair then time, a difference is an interval where the pair does not change (cheaper than `over`)
    gap = pl.when(pl.col("pair_id") == pl.col("pair_id").shift()).then(pl.col("ts").diff())
    beats = rows.sort(["pair_id", "ts"]).filter(gap.is_null() | (gap >= params.burst_merge_s))
    return beats.with_columns(gap.alias("iv"))


def _timing(beats: pl.DataFrame, params: BeaconParams) -> pl.DataFrame:
    """Per pair, the timestamp score; only the pairs that pass it (the rest of the work is for them alone)."""
    iv = pl.col("iv").drop_nulls()
    stats = beats.group_by("pair_id").agg(
        pl.len().alias("beats"), statistical_score(iv, default_mad=1.0).alias("ts_score"),
        iv.median().alias("period_s"), (iv - iv.median()).abs().median().alias("mad"),
    )
    return stats.filter((pl.col("beats") >= params.min_connections) & (pl.col("ts_score") >= params.min_ts_score))


def _scored(stats: pl.DataFrame, beats: pl.DataFrame, counts: pl.DataFrame, start: float, end: float,
            params: BeaconParams) -> pl.DataFrame:
    """Sizes, persistence and the beacon score of the pairs that passed the gate; those that qualify."""
    size = pl.col("orig_bytes").cast(pl.Float64)
    stats = stats.join(beats.group_by("pair_id").agg(
        *(pl.col(c).first() for c in (*PAIR, "direction")),
        pl.when(size.median() >= 1.0).then(statistical_score(size, default_mad=0.0)).alias("size_score"),
        pl.col("ts").min().alias("first_ts"), pl.col("ts").max().alias("last_ts"),
        pl.col("answered").cast(pl.Float64).mean().alias("answered_share")), on="pair_id")
    modes = beats.group_by(["pair_id", "orig_bytes"]).agg(pl.len().alias("n")).sort(
        ["n", "orig_bytes"], descending=[True, False]).group_by("pair_id", maintain_order=True).agg(
        pl.col("orig_bytes").first().alias("size_mode"), (pl.col("n").first() / pl.col("n").sum()).alias("mode_share"))
    held = persistence(beats, ["pair_id"], start=start, end=end)
    table = stats.join(counts.select("pair_id", "connections"), on="pair_id").join(held, on="pair_id").join(
        modes, on="pair_id")
    has_size = pl.col("size_score").is_not_null()
    score = (pl.col("ts_score") + pl.col("histogram") + pl.col("duration") + pl.col("size_score").fill_null(0.0)) / (
        3 + has_size.cast(pl.Int64))
    inbound_ok = (pl.col("hours_seen") >= params.inbound_min_hours) & (
        pl.col("answered_share") >= params.inbound_min_answered)
    table = table.with_columns(score.round(3).alias("score"))
    return table.filter((pl.col("score") >= params.min_score) & ((pl.col("direction") != "inbound") | inbound_ok))


def _without_pollers(table: pl.DataFrame, siblings: pl.DataFrame, params: BeaconParams) -> pl.DataFrame:
    """Internal beacons minus those of pollers: a source that polls `poller_min_pairs` internal targets on one
    schedule is a scraper, a monitor or a scheduler, and a target that as many internal clients poll on one
    schedule is a shared service (config, metrics, time). A sibling pair keeps the schedule when its mean
    interval is within 25 % of the beacon's period; siblings are all internal pairs the window touched, so the
    rule holds while the pairs are re-scored in turns. Outbound and inbound beacons all stay."""
    internal = table.filter(pl.col("direction") == "internal")
    if internal.height == 0:
        return table
    rates = siblings.select("src_ip", "dst_ip", ((pl.col("until") - pl.col("since")) / (
        pl.col("connections") - 1)).alias("rate"))
    near = (pl.col("rate") - pl.col("period_s")).abs() <= 0.25 * pl.col("period_s")
    beacons = internal.select("pair_id", "src_ip", "dst_ip", "period_s")
    fans = [beacons.join(rates.rename({other: f"{other}_sibling"}), on=side).filter(near).group_by("pair_id").len()
            .filter(pl.col("len") >= params.poller_min_pairs).select("pair_id")
            for side, other in (("src_ip", "dst_ip"), ("dst_ip", "src_ip"))]
    return table.filter(~pl.col("pair_id").is_in(pl.concat(fans)["pair_id"].implode()))


def _beacon(row: dict[str, Any]) -> Beacon:
    period = number(row["period_s"])
    size_score = row["size_score"]
    return Beacon(
        src=str(row["src_ip"]), dst=str(row["dst_ip"]), dst_port=int(number(row["dst_port"])),
        protocol=str(row["protocol"]), direction=as_direction(str(row["direction"])),
        connections=int(number(row["connections"])), beats=int(number(row["beats"])),
        first_ts=number(row["first_ts"]), last_ts=number(row["last_ts"]), period_s=period,
        jitter=round(number(row["mad"]) / period, 3) if period > 0 else 0.0, ts_score=round(number(row["ts_score"]), 3),
        size_score=None if size_score is None else round(number(size_score), 3), histogram=number(row["histogram"]),
        duration=number(row["duration"]), score=number(row["score"]), hours_seen=int(number(row["hours_seen"])),
        hours_total=int(number(row["hours_total"])), size_mode=int(number(row["size_mode"])),
        size_mode_share=round(number(row["mode_share"]), 3), answered_share=round(number(row["answered_share"]), 3),
    )
