"""Plain builders of synthetic flows for the detection engines: canonical frames and detection frames."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from jobs.engines.detect.frame import prepare
from jobs.engines.detect.home import HomeNetworks
from jobs.engines.flows.schema import CANONICAL_SCHEMA

START = datetime(2024, 4, 19, tzinfo=UTC).timestamp()
SENSOR = "64.225.56.201"
HOME = HomeNetworks.of(sensors=[SENSOR])
HOUR = 3600.0
DAY = 86_400.0


@dataclass(frozen=True)
class Flow:
    """One connection as a test states it (seconds since START)."""

    at: float
    src: str
    dst: str
    port: int | None = 443
    protocol: str = "tcp"
    bytes: int = 600
    orig_bytes: int | None = None
    duration: float | None = 0.5
    answered: bool = True
    src_port: int = 50000


def canonical(flows: Iterable[Flow]) -> pl.DataFrame:
    """A canonical frame plus the `answered` and `orig_bytes` columns a parser will add."""
    rows = [(START + f.at, None if f.duration is None else START + f.at + f.duration, f.src, f.src_port, f.dst,
             f.port, f.protocol, f.bytes, 4, "accept", f.answered, f.orig_bytes) for f in flows]
    names = ["ts_start", "ts_end", "src_ip", "src_port", "dst_ip", "dst_port", "protocol", "bytes", "packets",
             "action", "answered", "orig_bytes"]
    schema = {**{n: CANONICAL_SCHEMA[n] for n in names[2:10]}, "ts_start": pl.Float64(), "ts_end": pl.Float64(),
              "answered": pl.Boolean(), "orig_bytes": pl.Int64()}
    frame = pl.DataFrame(rows, schema={n: schema[n] for n in names}, orient="row")
    times = [(pl.col(n) * 1e6).round().cast(pl.Int64).cast(pl.Datetime("us", "UTC")) for n in ("ts_start", "ts_end")]
    return frame.with_columns(times)


def detection(flows: Iterable[Flow], home: HomeNetworks = HOME) -> pl.DataFrame:
    """The detection frame of `flows`, sorted by time."""
    return prepare(canonical(flows), home).sort("ts")


def periodic(src: str, dst: str, *, period: float, jitter: float, hours: float, first: float = 0.0,
             seed: int = 1, **fields: object) -> list[Flow]:
    """A timer: one connection every `period` ± `jitter` (uniform, seconds) for `hours`."""
    rng, at, found = random.Random(seed), first, []
    while at < first + hours * HOUR:
        found.append(Flow(at, src, dst, **fields))  # type: ignore[arg-type]
        at += period + rng.uniform(-jitter, jitter)
    return found


def poisson(src: str, dst: str, *, mean: float, hours: float, first: float = 0.0, seed: int = 1,
            **fields: object) -> list[Flow]:
    """Random arrivals at a mean interval of `mean` seconds for `hours`."""
    rng, at, found = random.Random(seed), first, []
    while at < first + hours * HOUR:
        found.append(Flow(at, src, dst, **fields))  # type: ignore[arg-type]
        at += rng.expovariate(1 / mean)
    return found


def by_hour(frame: pl.DataFrame) -> Sequence[tuple[float, pl.DataFrame]]:
    """(window end, window frame) of each hour that has flows, in order."""
    hours = frame.with_columns(((pl.col("ts") - START) // HOUR).cast(pl.Int64).alias("_hour"))
    return [(START + (hour + 1) * HOUR, part.drop("_hour"))
            for (hour,), part in hours.partition_by("_hour", as_dict=True, maintain_order=True).items()]
