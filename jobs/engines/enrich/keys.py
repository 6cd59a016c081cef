"""Address text → 128-bit lookup key, null for anything no public database can answer.

IPv4 (nearly every address in real captures) is parsed column-wise by polars; only the rest (IPv6, odd
spellings) goes through `ipaddress`, once per distinct address. Addresses that are not globally reachable
(private, shared, loopback, link-local, documentation, benchmarking, multicast, reserved) get no key, so they
are never looked up.
"""

from __future__ import annotations

import ipaddress
from typing import Final

import polars as pl

from jobs.engines.enrich.tables import IPV4_MAPPED_BASE, KEY

# IANA's IPv4 special-purpose blocks that are not globally reachable, plus multicast and the reserved 240/4.
_V4_NOT_GLOBAL: Final = tuple(
    (int(net.network_address), int(net.broadcast_address))
    for net in map(ipaddress.IPv4Network, (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "224.0.0.0/4", "240.0.0.0/4",
    ))
)
# No leading zeros, as `ipaddress` (and the flow parsers) read them: "010.0.0.1" is not an address.
_DOTTED_QUAD: Final = r"^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$"


def _v4_value(text: pl.Expr) -> pl.Expr:
    """The 32-bit value of a dotted quad, null when `text` is not one (an octet over 255 included)."""
    parts = text.str.split_exact(".", 3)
    octets = [parts.struct.field(f"field_{i}").cast(pl.UInt32, strict=False) for i in range(4)]
    value = ((octets[0] * 256 + octets[1]) * 256 + octets[2]) * 256 + octets[3]  # below 2**32 once octets ≤ 255
    valid = text.str.contains(_DOTTED_QUAD) & pl.all_horizontal(octet <= 255 for octet in octets)
    return pl.when(valid).then(value)


def _v4_global(value: pl.Expr) -> pl.Expr:
    return ~pl.any_horizontal(value.is_between(low, high) for low, high in _V4_NOT_GLOBAL)


def _other_key(text: str) -> int | None:
    """The key of an address polars did not parse as a dotted quad (IPv6, mapped IPv4), None if not global."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        value = int(address)
        public = not any(low <= value <= high for low, high in _V4_NOT_GLOBAL)
        return IPV4_MAPPED_BASE + value if public else None
    # ipaddress knows IPv6's special-purpose registry; multicast (ff00::/8) is left out of it, so test it too.
    return int(address) if address.is_global and not address.is_multicast else None


def address_keys(addresses: pl.Series) -> pl.Series:
    """One UInt128 key per address (same length and order), null where nothing should be looked up."""
    frame = pl.DataFrame({"text": addresses.cast(pl.Utf8)}).with_columns(v4=_v4_value(pl.col("text")))
    frame = frame.with_columns(
        key=pl.when(_v4_global(pl.col("v4"))).then(pl.col("v4").cast(KEY) + pl.lit(IPV4_MAPPED_BASE, KEY))
    )
    rest = frame["v4"].is_null() & frame["text"].is_not_null()
    if not rest.any():
        return frame["key"].alias("key")
    others = frame["text"].filter(rest)
    other_keys = pl.Series([_other_key(text) for text in others], dtype=KEY)
    return frame["key"].scatter(rest.arg_true(), other_keys).alias("key")
