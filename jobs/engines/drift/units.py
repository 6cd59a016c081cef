"""Human-readable sizes and ports for explanations and evidence."""

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


def port_text(dst_port: int | None, protocol: str) -> str:
    """"5432/tcp", or just the protocol when the port is unknown (icmp)."""
    return protocol if dst_port is None else f"{dst_port}/{protocol}"
