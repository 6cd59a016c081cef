"""A beacon as an analyst reads it: its risk (0-100), its explanation, and its finding.

Risk by direction: outbound and internal beacons are medium (high only when near perfect over many beats),
inbound ones low to medium, name/time polling and known habits low; never critical: a beacon is a question for
an analyst, not proof that something got in. RITA rates a 0.97 beacon "medium" too: periodic software
(updaters, push channels) is everywhere.
"""

from __future__ import annotations

import math
from typing import Final

from jobs.engines.detect.beacons import Beacon
from jobs.engines.detect.records import Finding, human_bytes, human_span, port_label

# the top of "low": what name/time polling and known habits may reach
LOW_MAX_RISK: Final = 35.0


def beacon_risk(beacon: Beacon, *, habitual: bool = False) -> float:
    """0-100, from the beacon score, the number of beats, whether it carries a payload, and its direction."""
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
