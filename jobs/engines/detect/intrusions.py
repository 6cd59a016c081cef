"""A brute force that got in: a long session to an authentication service after many failed attempts.

Conn logs do not say whether a login succeeded, but its shape does: failed guesses are short (the server
hangs up after a few tries and after its login grace time), while a session that was let in lasts and
moves data. So a session to ssh, rdp, smb… that lasts `long_session_s` and moves several times what a
failure moved, from an actor that made `brute_min_attempts` short attempts on the same host and port
within `intrusion_lookback_s` before it, is an intrusion: critical, whatever the direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from jobs.engines.detect.campaigns import CampaignParams, auth_service, initiatives
from jobs.engines.detect.records import Direction, Finding, as_direction, human_bytes, human_span, number

_KEYS = ["actor", "dst_ip", "port"]


@dataclass(frozen=True, slots=True)
class Session:
    """A long session to an authentication service (one row of the window)."""

    ts: float
    duration: float
    bytes: int
    src: str
    dst: str
    actor: str
    port: str
    service: str
    direction: Direction

    @classmethod
    def of(cls, row: dict[str, Any]) -> Session:
        """The session of a detection-frame row (with `port` and `service`)."""
        return cls(number(row["ts"]), number(row["duration"]), int(number(row["bytes"])), str(row["src_ip"]),
                   str(row["dst_ip"]), str(row["actor"]), str(row["port"]), str(row["service"]),
                   as_direction(str(row["direction"])))


def _auth(frame: pl.DataFrame) -> pl.DataFrame:
    flows = initiatives(frame).with_columns(auth_service())
    return flows.filter(pl.col("service").is_not_null() & pl.col("answered"))


def find_intrusions(window: pl.DataFrame, history: pl.DataFrame | None = None,
                    params: CampaignParams | None = None) -> list[Finding]:
    """Intrusions among the sessions of `window`; failures are looked for in `history` (the `auth_rows` of the
    sensor's earlier windows; rows past the lookback are ignored) and in `window` itself."""
    params = params or CampaignParams()
    flows = _auth(window)
    long = pl.col("duration").fill_null(0.0) >= params.long_session_s
    sessions = flows.filter(long)
    if sessions.height == 0:
        return []
    short = flows.filter(~long)
    past = short if history is None or history.height == 0 else pl.concat([history.select(short.columns), short])
    failures = past.join(sessions.select(_KEYS).unique(), on=_KEYS, how="semi")
    found = []
    for session in (Session.of(row) for row in sessions.sort("ts").iter_rows(named=True)):
        earlier = failures.filter(
            (pl.col("actor") == session.actor) & (pl.col("dst_ip") == session.dst) & (pl.col("port") == session.port)
            & pl.col("ts").is_between(session.ts - params.intrusion_lookback_s, session.ts, closed="left"))
        if earlier.height < params.brute_min_attempts:
            continue
        median = number(earlier["bytes"].cast(pl.Float64).median())
        if session.bytes >= params.session_bytes_factor * max(median, 1.0):
            found.append(_intrusion(session, earlier, median))
    return found


def _intrusion(session: Session, earlier: pl.DataFrame, median: float) -> Finding:
    s, failures = session, earlier.height
    explanation = (f"after {failures:,} short {s.service} attempts from {s.actor} (median {human_bytes(median)} "
                   f"each), {s.src} held a {human_span(s.duration)} {s.service} session ({human_bytes(s.bytes)}) "
                   f"with {s.dst}: a brute force that got in")
    return Finding(
        kind="intrusion", direction=s.direction, actor=s.actor, target=s.dst, service=s.service,
        first_ts=number(earlier["ts"].min()), last_ts=s.ts + s.duration, attempts=failures + 1,
        answered=failures + 1, risk=round(90.0 + 5.0 * min(1.0, math.log10(failures) / 3), 1),
        sources=frozenset(earlier["src_ip"].unique().to_list()) | {s.src}, hosts=frozenset({s.dst}),
        ports=frozenset({s.port}), explanation=explanation,
        facts={"failures": failures, "session_s": round(s.duration, 1), "session_bytes": s.bytes,
               "session_src": s.src, "failure_median_bytes": median, "service": s.service},
    )
