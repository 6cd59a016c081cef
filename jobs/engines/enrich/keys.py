"""Address text → the number to look up, or None for anything no public database can answer.

Addresses that are not globally reachable (private, shared, loopback, link-local, documentation, benchmarking,
multicast, reserved, IPv6 outside global unicast 2000::/3) get None, so they are never looked up. Both families
are read with `inet_pton`: strict (no leading zeros, short forms or scope ids) and well under a microsecond.
"""

from __future__ import annotations

import ipaddress
import socket
from bisect import bisect_right
from typing import Final, Literal

Family = Literal[4, 6]
FAMILIES: Final[tuple[Family, ...]] = (4, 6)


def _blocks(*networks: str) -> list[tuple[int, int]]:
    nets = map(ipaddress.ip_network, networks)
    return sorted((int(net.network_address), int(net.broadcast_address)) for net in nets)


# IANA's IPv4 special-purpose blocks that are not globally reachable, plus multicast and the reserved 240/4.
_V4_NOT_GLOBAL: Final = _blocks(
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
    "240.0.0.0/4",
)
# Inside 2000::/3: the IETF protocol block (Teredo, benchmarking, ORCHID; the tables map Teredo to its relay
# operator, which is not who the address belongs to) and the two documentation blocks.
_V6_NOT_GLOBAL: Final = _blocks("::/3", "2001::/23", "2001:db8::/32", "3fff::/20", "4000::/2", "8000::/1")
_NOT_GLOBAL: Final[dict[Family, tuple[list[int], list[int]]]] = {
    4: ([low for low, _ in _V4_NOT_GLOBAL], [high for _, high in _V4_NOT_GLOBAL]),
    6: ([low for low, _ in _V6_NOT_GLOBAL], [high for _, high in _V6_NOT_GLOBAL]),
}
_MAPPED_PREFIX: Final = 0xFFFF  # ::ffff:a.b.c.d carries an IPv4 address in its last 32 bits


def _global(family: Family, value: int) -> bool:
    lows, highs = _NOT_GLOBAL[family]
    at = bisect_right(lows, value) - 1
    return at < 0 or value > highs[at]


def address_key(text: str) -> tuple[Family, int] | None:
    """(4, value) or (6, value) for a globally reachable address; None for any other text.

    An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address it carries.
    """
    try:
        value = int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
        family: Family = 4
    except (OSError, ValueError):  # not a dotted quad (ValueError: an embedded NUL)
        try:
            value = int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        except (OSError, ValueError):
            return None
        family = 6
        if value >> 32 == _MAPPED_PREFIX:
            value, family = value & 0xFFFF_FFFF, 4
    return (family, value) if _global(family, value) else None
