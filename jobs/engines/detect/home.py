"""Home networks, the direction of each flow, address scopes, and the services the outside reaches.

The home networks are what the tenant calls "ours" (Zeek's `Site::local_nets`, RITA's internal
subnets): by default the private ranges plus the sensors' own addresses, because an internet-facing
sensor is a home host even though its address is public (calling it "external" made every pair of such
a sensor external → external). Each flow then has a direction: outbound (home → elsewhere), inbound
(elsewhere → home), internal (home → home) or transit (neither end home: tunnelled or spoofed traffic).

Addresses are classified once per distinct address (a window repeats each many times): IPv4 in polars as
32-bit integers compared with network ranges, IPv6 (rare in flows) with `ipaddress`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import polars as pl

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 1918, shared address space (RFC 6598, carrier NAT), unique-local IPv6 and loopback: never routed
# on the internet, so a sensor that sees them sees its own side
PRIVATE_NETWORKS: Final = (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "fc00::/7", "::1/128",
)
_MULTICAST: Final = (ipaddress.ip_network("224.0.0.0/4"),)
_LINK_LOCAL: Final = (ipaddress.ip_network("169.254.0.0/16"),)
_LIMITED_BROADCAST: Final = 0xFFFFFFFF
ADDRESS_COLUMNS: Final = ("home", "home_net", "local_scope")


@dataclass(frozen=True, slots=True)
class HomeNetworks:
    """The networks a tenant calls its own; build it with `HomeNetworks.of`."""

    networks: tuple[IpNetwork, ...]

    @classmethod
    def of(cls, cidrs: Iterable[str] = (), *, sensors: Iterable[str] = (), private: bool = True) -> HomeNetworks:
        """Home = `cidrs` + each sensor address (a host network) + the private ranges unless `private=False`.

        Raises ValueError on an address or CIDR that does not parse (host bits set are refused too:
        "10.0.0.5/8" is more likely a typo than a network)."""
        found = [ipaddress.ip_network(c) for c in (*(PRIVATE_NETWORKS if private else ()), *cidrs)]
        found += [ipaddress.ip_network(ipaddress.ip_address(s)) for s in sensors]
        # most specific first, so an address is named by the smallest home network holding it
        ordered = sorted(set(found), key=lambda n: (-n.prefixlen, n.version, int(n.network_address)))
        return cls(tuple(ordered))

    def network_of(self, address: str) -> str | None:
        """The smallest home network holding `address` (as a CIDR string), or None (not home or not an IP)."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        return next((str(n) for n in self.networks if ip.version == n.version and ip in n), None)

    @property
    def broadcasts(self) -> frozenset[int]:
        """Directed-broadcast addresses (IPv4 integers) of the home networks that have one (prefix ≤ 30)."""
        return frozenset(int(n.broadcast_address) for n in self.networks
                         if n.version == 4 and n.prefixlen <= 30 and not n.is_loopback)


def ipv4_integer(address: pl.Expr) -> pl.Expr:
    """The 32-bit value of a dotted-quad IPv4 string; null for anything else (IPv6, names, junk)."""
    parts = address.str.split_exact(".", 3)
    octets = [parts.struct.field(f"field_{i}").cast(pl.Int64, strict=False) for i in range(4)]
    # split_exact keeps four fields and drops the rest, so "1.2.3.4.5" must be refused by its dot count
    four = address.str.count_matches(".", literal=True) == 3
    valid = pl.all_horizontal([o.is_between(0, 255) for o in octets]) & four
    value = octets[0] * 16_777_216 + octets[1] * 65_536 + octets[2] * 256 + octets[3]
    return pl.when(valid).then(value)


def address_table(addresses: pl.Series, home: HomeNetworks) -> pl.DataFrame:
    """One row per distinct address: `home` (bool), `home_net` (smallest home CIDR or null) and
    `local_scope` (multicast, broadcast, link-local or unspecified: never one host talking to another)."""
    table = addresses.unique().drop_nulls().to_frame("address")
    table = table.with_columns(ipv4_integer(pl.col("address")).alias("v4"))
    v4 = pl.col("v4")
    home_net = pl.lit(None, pl.Utf8)
    for network in reversed([n for n in home.networks if n.version == 4]):
        # built inside out, so the most specific network's test comes first
        home_net = pl.when(v4.is_between(int(network.network_address), int(network.broadcast_address))).then(
            pl.lit(str(network))).otherwise(home_net)
    scoped = pl.any_horizontal(
        *(v4.is_between(int(n.network_address), int(n.broadcast_address)) for n in (*_MULTICAST, *_LINK_LOCAL)),
        v4.is_in([0, _LIMITED_BROADCAST, *home.broadcasts]),
    )
    table = table.with_columns(home_net.alias("home_net"), scoped.fill_null(False).alias("local_scope"))
    other = table.filter(v4.is_null())
    if other.height:
        table = table.update(_classify_slowly(other["address"], home), on="address")
    return table.select("address", pl.col("home_net").is_not_null().alias("home"), "home_net", "local_scope")


def _classify_slowly(addresses: pl.Series, home: HomeNetworks) -> pl.DataFrame:
    """IPv6 (and unparsable) addresses, one by one with `ipaddress`: few per window in practice."""
    rows: list[tuple[str, str | None, bool]] = []
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            rows.append((address, None, False))  # a name, not an address: neither home nor scoped
            continue
        scoped = ip.is_multicast or ip.is_link_local or ip.is_unspecified
        rows.append((address, home.network_of(address), scoped))
    return pl.DataFrame(rows, schema={"address": pl.Utf8, "home_net": pl.Utf8, "local_scope": pl.Boolean},
                        orient="row")


def with_direction(frame: pl.DataFrame, home: HomeNetworks, *, src: str = "src_ip",
                   dst: str = "dst_ip") -> pl.DataFrame:
    """`frame` plus `src_home`, `dst_home`, `src_net`, `dst_net` (smallest home CIDR), `local_scope` (either end
    multicast, broadcast, link-local or unspecified) and `direction`."""
    table = address_table(pl.concat([frame[src], frame[dst]]), home)
    out = frame
    for side, column in (("src", src), ("dst", dst)):
        renamed = table.rename({"address": column, "home": f"{side}_home", "home_net": f"{side}_net",
                                "local_scope": f"{side}_scope"})
        out = out.join(renamed, on=column, how="left", maintain_order="left")
    src_home, dst_home = pl.col("src_home").fill_null(False), pl.col("dst_home").fill_null(False)
    direction = (pl.when(src_home & dst_home).then(pl.lit("internal")).when(src_home).then(pl.lit("outbound"))
                 .when(dst_home).then(pl.lit("inbound")).otherwise(pl.lit("transit")))
    scope = pl.col("src_scope").fill_null(False) | pl.col("dst_scope").fill_null(False)
    return out.with_columns(src_home, dst_home, direction.alias("direction"), scope.alias("local_scope")).drop(
        "src_scope", "dst_scope")


@dataclass(frozen=True, slots=True)
class ExposureParams:
    """When a home host:port counts as exposed to the outside."""

    # ten unrelated outside addresses that got an answer make a service the world reaches (by design or not);
    # one or two are a partner link or a test, not exposure. Unanswered probes never count: scanners knock
    # on every port of every address, and a closed port is not a service.
    min_sources: int = 10

    def __post_init__(self) -> None:
        if self.min_sources < 2:
            raise ValueError("min_sources must be at least 2: one client makes a link, not an exposure")


def exposed_services(flows: pl.DataFrame, params: ExposureParams | None = None) -> pl.DataFrame:
    """Home host:port/protocol that at least `min_sources` distinct outside sources reached and got answered.

    `flows` is a detection frame (`jobs.engines.detect.frame.prepare`): needs direction, answered, src_ip,
    dst_ip, dst_port, protocol. Returns host, dst_port, protocol, sources (distinct answered outside sources),
    sorted by sources descending."""
    params = params or ExposureParams()
    reached = flows.lazy().filter((pl.col("direction") == "inbound") & pl.col("answered") & ~pl.col("icmp_reply"))
    grouped = reached.group_by("dst_ip", "dst_port", "protocol").agg(pl.col("src_ip").n_unique().alias("sources"))
    found = grouped.filter(pl.col("sources") >= params.min_sources).rename({"dst_ip": "host"})
    return found.sort(["sources", "host", "dst_port"], descending=[True, False, False]).collect()
