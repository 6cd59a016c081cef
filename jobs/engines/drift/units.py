"""Human-readable sizes and durations for explanations and evidence."""

from __future__ import annotations

_BYTE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def human_bytes(count: float) -> str:
    """Decimal byte size: 950 → "950 B", 3_100_000 → "3.1 MB"."""
    value = float(count)
    for unit in _BYTE_UNITS:
        if abs(value) < 1000 or unit == _BYTE_UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable: the last unit always returns")


def human_duration(seconds: float) -> str:
    """Compact duration: 42 → "42s", 275 → "4m 35s", 7260 → "2h 1m"."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


def port_text(dst_port: int | None, protocol: str) -> str:
    """"5432/tcp", or just the protocol when the port is unknown (icmp)."""
    return protocol if dst_port is None else f"{dst_port}/{protocol}"
