"""An event's evidence and score as an analyst reads them: labels with units, and how the reasons make the risk.

Two producers write events (docs/detection.md): the drift engine scores named features and squeezes their raw
sum through a saturating curve (`jobs.engines.drift.score`), and detection (beacons, scans, brute force) sets the
risk of a finding directly, stored as one reason worth the risk. `score_breakdown` says which one made an event,
with the same numbers, and says so plainly when the stored reasons do not reproduce the stored risk.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from jobs.engines.detect.records import human_bytes, human_span
from jobs.engines.drift.score import RISK_SCALE

SHOWN_ITEMS = 12


def _count(v: Any) -> str:
    return f"{int(v):,}"


def _share(v: Any) -> str:
    return f"{100 * float(v):.0f} %"


def _score01(v: Any) -> str:
    return f"{float(v):.2f} of 1"


def _seconds(v: Any) -> str:
    return human_span(float(v))


def _bytes(v: Any) -> str:
    return human_bytes(float(v))


def _epoch(v: Any) -> str:
    return datetime.fromtimestamp(float(v), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _z(v: Any) -> str:
    return f"{float(v):.1f} standard deviations"


# key: (label, how its value reads). Keys not listed get their name in words and a plain value.
FIELDS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "period_s": ("period", _seconds), "jitter": ("jitter", lambda v: f"± {100 * float(v):.0f} %"),
    "ts_score": ("timestamp regularity", _score01), "size_score": ("size regularity", _score01),
    "histogram": ("spread over the hours", _score01), "duration": ("share of the capture covered", _score01),
    "score": ("beacon score", _score01), "size_mode": ("most common size", _bytes),
    "size_mode_share": ("share of that size", _share), "connections": ("connections", _count),
    "hours_seen": ("hours with traffic", _count), "hours_total": ("hours in the capture", _count),
    "bytes": ("bytes in the window", _bytes), "bytes_median": ("median bytes per window", _bytes),
    "flows": ("flows in the window", _count), "flows_median": ("median flows per window", _count),
    "packets": ("packets", _count), "unanswered": ("unanswered flows", _count), "edges": ("edges", _count),
    "windows_seen": ("windows it was seen in", _count), "baseline_windows": ("windows in the baseline", _count),
    "window_count": ("windows recorded", _count), "z_bytes": ("bytes above the median by", _z),
    "z_flows": ("flows above the median by", _z), "spike_z": ("spike size", _z), "spike_on": ("spike on", str),
    "first_ts": ("first flow", _epoch), "last_ts": ("last flow", _epoch), "attempts": ("attempts", _count),
    "answered": ("answered", _count), "source_count": ("sources", _count), "host_count": ("hosts", _count),
    "sources": ("source addresses", str), "hosts": ("target hosts", str), "ports": ("ports", str),
    "session_s": ("session length", _seconds), "session_bytes": ("session bytes", _bytes),
    "median_bytes": ("median bytes", _bytes), "failure_median_bytes": ("failed attempts' median bytes", _bytes),
    "day_attempts": ("attempts that day", _count), "failures": ("failed attempts", _count),
    "orig_bytes": ("bytes sent", _bytes), "known_ports": ("ports known for this pair", str),
    "known_sources": ("sources known for the target", str), "target_sources": ("sources of the target", _count),
    "new_peers": ("new peers", str), "known_outside_peers": ("outside peers known", _count),
    "infrastructure": ("name/time service", str), "habitual": ("a known habit", str),
    "last_seen": ("last seen", str), "node_kind": ("node kind", str), "direction": ("direction", str),
    "service": ("service", str),
}
# Shown elsewhere (the explanation, the reasons), or bookkeeping.
SKIPPED = frozenset({"summary", "signature", "event_ref", "pair_id", "ports_by_count", "top_actors"})


def value_text(key: str, value: Any) -> str:
    """One evidence value in words and units; lists shortened with how many more there are."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Sequence) and not isinstance(value, str):
        shown = ", ".join(value_text(key, v) for v in value[:SHOWN_ITEMS])
        more = len(value) - SHOWN_ITEMS
        return f"{shown} … ({more:,} more)" if more > 0 else shown or "none"
    if isinstance(value, Mapping):
        return "; ".join(f"{label_of(k)}: {value_text(k, v)}" for k, v in value.items())
    convert = FIELDS.get(key, ("", None))[1]
    try:
        return convert(value) if convert is not None else _plain(value)
    except (TypeError, ValueError):
        return str(value)


def _plain(value: Any) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def label_of(key: str) -> str:
    """The human label of an evidence key."""
    return FIELDS[key][0] if key in FIELDS else key.replace("_", " ")


def evidence_rows(evidence: Mapping[str, Any] | None) -> list[list[str]]:
    """[label, value] per piece of evidence, a detection's nested `facts` flattened in, a beacon's period and
    jitter read together ("every 1 m 27 s ± 2 %")."""
    flat: dict[str, Any] = {}
    for key, value in (evidence or {}).items():
        if key == "facts" and isinstance(value, Mapping):
            flat |= {k: v for k, v in value.items() if k not in flat}
        elif key == "whitelist" and isinstance(value, Mapping):
            flat["suppressed by whitelist"] = value.get("reason") or "no reason given"
        else:
            flat[key] = value
    rows: list[list[str]] = []
    if isinstance(flat.get("period_s"), int | float):
        jitter = flat.pop("jitter", None)
        beat = f"every {human_span(float(flat.pop('period_s')))}"
        rows.append(["rhythm", beat + (f" ± {100 * float(jitter):.0f} %" if isinstance(jitter, int | float) else "")])
    rows += [[label_of(k), value_text(k, v)] for k, v in flat.items() if k not in SKIPPED]
    return rows


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def reason_rows(reasons: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Each reason with its strength, weight and contribution in raw points (contribution = weight × strength)."""
    rows = []
    for r in reasons:
        weight, value = _number(r.get("weight")), _number(r.get("value", 1.0))
        contribution = _number(r.get("contribution", weight * value))
        rows.append({"feature": str(r.get("feature", "")).replace("_", " "), "evidence": str(r.get("evidence", "")),
                     "strength": f"{value:.2f}", "weight": f"{weight:.0f}", "contribution": f"{contribution:+.1f}"})
    return rows


def saturated(raw: float) -> float:
    """The drift engine's curve: risk = 100 · (1 − e^(−raw / RISK_SCALE)); it never clips."""
    return 100.0 * (1.0 - math.exp(-max(raw, 0.0) / RISK_SCALE))


def score_breakdown(reasons: Sequence[Mapping[str, Any]], risk: float) -> str:
    """How the stored reasons make the stored risk, in the numbers that make it."""
    raw = sum(_number(r.get("contribution", _number(r.get("weight")) * _number(r.get("value", 1.0))))
              for r in reasons)
    if not reasons:
        return f"Risk {risk:.0f}: this event stores no reasons, so how it was scored cannot be shown."
    if len(reasons) == 1 and abs(raw - risk) <= 1:
        feature = str(reasons[0].get("feature", "")).replace("_", " ")
        return (f"Risk {risk:.0f} is set directly by the {feature} detection (its rule's risk for this finding); "
                "no curve applies.")
    curved = saturated(raw)
    if abs(curved - risk) <= 1:
        return (f"The reasons add up to {raw:.1f} raw points; risk = 100 × (1 − e^(−{raw:.1f} / {RISK_SCALE:.0f})) "
                f"= {curved:.0f}. The curve saturates instead of clipping at 100, so every reason still moves "
                "the risk, and points count less the higher the sum.")
    return (f"The reasons add up to {raw:.1f} raw points, which the curve would make {curved:.0f}, but the stored "
            f"risk is {risk:.0f}: it was scored with other weights (an older version or a feedback weight not "
            "stored with the reasons).")
