"""Protocols and ports: normalisation, NetworkPolicyPort matching, and port equivalence classes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from jobs.engines.policy.errors import PolicyError, UnsupportedPolicyError

# The only protocols a NetworkPolicyPort can name.
NP_PROTOCOLS = ("TCP", "UDP", "SCTP")
DEFAULT_PROTOCOL = "TCP"
MAX_PORT = 65535
_IANA = {"6": "TCP", "17": "UDP", "132": "SCTP", "1": "ICMP", "58": "ICMPV6"}
_ALIASES = {"ICMPV4": "ICMP", "ICMP6": "ICMPV6", "IPV6-ICMP": "ICMPV6"}


def normalize_protocol(protocol: str) -> str:
    """Return the protocol in one spelling: `tcp`, `6` and `TCP` all become `TCP`."""
    name = protocol.strip().upper()
    name = _IANA.get(name, name)
    return _ALIASES.get(name, name)


def port_range(entry: Mapping[str, Any], *, policy: str = "") -> tuple[str, int | None, int | None]:
    """Return (protocol, first, last) of a NetworkPolicyPort; first is None for all ports.

    Named ports need the pods' container specs, which flow records do not carry.
    """
    protocol = normalize_protocol(str(entry.get("protocol") or DEFAULT_PROTOCOL))
    port = entry.get("port")
    if port is None:
        return protocol, None, None
    if isinstance(port, str) and not port.isdigit():
        raise UnsupportedPolicyError(f"named port {port!r} is not supported", policy=policy, path="ports")
    first = int(port)
    end = entry.get("endPort")
    last = first if end is None else int(end)
    if not 1 <= first <= last <= MAX_PORT:
        raise PolicyError(f"bad port range {first}-{last}", policy=policy, path="ports")
    return protocol, first, last


def ports_admit(
    ranges: Sequence[tuple[str, int | None, int | None]] | None, port: int | None, protocol: str
) -> bool:
    """Tell whether a rule's port list admits a connection; None (no `ports`) admits any traffic.

    An unknown destination port (None) is admitted only by an entry that covers all ports.
    """
    if ranges is None:
        return True
    for range_protocol, first, last in ranges:
        if range_protocol != protocol:
            continue
        if first is None or (port is not None and last is not None and first <= port <= last):
            return True
    return False


def port_classes(ranges: Iterable[tuple[int, int]], observed: Iterable[int]) -> list[tuple[int, int]]:
    """Split 1..65535 into maximal intervals on which every given range and port decides alike.

    Each observed port becomes a class of its own, so observed and unobserved traffic never share
    a class; every policy range starts and ends on a class boundary.
    """
    cuts = {1, MAX_PORT + 1}
    for first, last in ranges:
        cuts.update((first, last + 1))
    for port in observed:
        cuts.update((port, port + 1))
    ordered = sorted(cut for cut in cuts if 1 <= cut <= MAX_PORT + 1)
    return [(lo, hi - 1) for lo, hi in pairwise(ordered)]
