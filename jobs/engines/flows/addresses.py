"""IP address validation and classification, done once per distinct address, never per row."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class AddressInfo:
    """A parsed address: its canonical text and whether it lies outside private/reserved space."""

    canonical: str
    external: bool


# Address space that belongs to an estate itself. Everything else, documentation ranges
# included (fixtures and demos use them for "somewhere on the internet"), is external.
_INTERNAL = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
))
# The same ranges as integer bounds per IP version: a membership test is then two comparisons.
_RANGES = {
    version: tuple((int(n.network_address), int(n.broadcast_address)) for n in _INTERNAL if n.version == version)
    for version in (4, 6)
}


@lru_cache(maxsize=1 << 18)
def address_info(text: str) -> AddressInfo | None:
    """Parse `text` as an IPv4/IPv6 address; None when it is not one.

    `external` is False inside private (RFC 1918, ULA), loopback, link-local, CGNAT, multicast and
    unspecified/reserved space, and True everywhere else.
    """
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4-mapped IPv6 address is classified as the IPv4 address it carries.
    mapped = addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) else None
    target = mapped if mapped is not None else addr
    value = int(target)
    internal = any(low <= value <= high for low, high in _RANGES[target.version])
    return AddressInfo(canonical=str(addr), external=not internal)


def is_external(text: str) -> bool:
    """True when `text` is a valid address outside the estate's own (private, local) space."""
    info = address_info(text)
    return info is not None and info.external
