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


@lru_cache(maxsize=1 << 18)
def address_info(text: str) -> AddressInfo | None:
    """Parse `text` as an IPv4/IPv6 address; None when it is not one.

    `external` is True for globally routable unicast addresses. Private (RFC 1918, ULA),
    loopback, link-local, multicast, CGNAT, documentation and other reserved ranges are internal.
    """
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4-mapped IPv6 address is classified as the IPv4 address it carries.
    mapped = addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) else None
    target = mapped if mapped is not None else addr
    return AddressInfo(canonical=str(addr), external=target.is_global and not target.is_multicast)


def is_external(text: str) -> bool:
    """True when `text` is a valid, globally routable unicast address."""
    info = address_info(text)
    return info is not None and info.external
