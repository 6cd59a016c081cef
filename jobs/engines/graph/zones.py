"""Where each node belongs on the page: home in the centre, outside peers grouped by network owner around it.

Home is what the tenant calls its own (`HomeNetworks`: its networks, its sensors, the private ranges unless
turned off) plus every Kubernetes workload. Home addresses are grouped by their home network (a /24 at most,
so a private /8 does not become one blob), workloads by namespace. Outside addresses are grouped by
autonomous system and country ("AS14061 DigitalOcean, US"), from the offline enrichment's answers.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Mapping

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.graph.model import Enrichment, Graph, group_of
from jobs.engines.snapshot.types import NodeRecord

UNKNOWN: Enrichment = (None, None, None)
HOME_PREFIX_V4 = 24
HOME_PREFIX_V6 = 64
PRIVATE_OUTSIDE = "as:private or reserved (outside home)"


def outside_group(info: Enrichment) -> str:
    """The group of an outside address from its (asn, organisation, country)."""
    asn, org, country = info
    where = f", {country}" if country else ""
    if asn:
        return f"as:AS{asn} {org or ''}".rstrip() + where
    return f"as:unknown AS{where}" if country else "as:unknown network"


def describe(info: Enrichment) -> str:
    """"AS14061 DigitalOcean, US" (or what is known of it) for hover texts and details."""
    return "" if info == UNKNOWN else outside_group(info).split(":", 1)[1]


def _address_group(key: str, home: HomeNetworks, info: Enrichment) -> tuple[str, bool]:
    """(group, is outside) of an address node."""
    network = home.network_of(key)
    if network is not None:
        address = ipaddress.ip_address(key)
        cap = HOME_PREFIX_V4 if address.version == 4 else HOME_PREFIX_V6
        if ipaddress.ip_network(network).prefixlen < cap:
            network = str(ipaddress.ip_network(f"{address}/{cap}", strict=False))
        return f"home:{network}", False
    if info == UNKNOWN and not ipaddress.ip_address(key).is_global:
        return PRIVATE_OUTSIDE, True
    return outside_group(info), True


def _placement(node: NodeRecord, home: HomeNetworks, info: Enrichment) -> tuple[str, bool]:
    if node.kind == "workload":
        return group_of(node), False
    try:
        ipaddress.ip_address(node.key)
    except ValueError:  # a named identity (e.g. Hubble's "world"): home unless the snapshot called it external
        return ("as:unknown network", True) if node.kind == "external" else (group_of(node), False)
    return _address_group(node.key, home, info)


def outside_addresses(graph: Graph, home: HomeNetworks) -> list[str]:
    """The address nodes that are not home: the ones to look up."""
    found = []
    for key, node in graph.nodes.items():
        if node.kind == "workload" or home.network_of(key) is not None:
            continue
        try:
            ipaddress.ip_address(key)
        except ValueError:
            continue
        found.append(key)
    return found


def _fold_lone(groups: dict[str, str], outside: set[str], info: Mapping[str, Enrichment]) -> None:
    """An autonomous system with one peer joins its country's "other networks" group, so a country's many
    one-address networks make one point, not a scatter."""
    sizes = Counter(g for g in groups.values() if g in outside)
    for key, group in list(groups.items()):
        country = info.get(key, UNKNOWN)[2]
        if group in outside and sizes[group] == 1 and country and group.startswith("as:AS"):
            groups[key] = f"as:other networks, {country}"
    outside.clear()
    outside.update(g for g in groups.values() if g.startswith("as:") or g == PRIVATE_OUTSIDE)


def place(graph: Graph, home: HomeNetworks, info: Mapping[str, Enrichment]) -> Graph:
    """`graph` with every node's group and the outside groups set, and the enrichment of its outside nodes."""
    groups: dict[str, str] = {}
    outside: set[str] = set()
    kept: dict[str, Enrichment] = {}
    for key, node in graph.nodes.items():
        found = info.get(key, UNKNOWN)
        group, is_outside = _placement(node, home, found)
        groups[key] = group
        if is_outside:
            outside.add(group)
            if found != UNKNOWN:
                kept[key] = found
    _fold_lone(groups, outside, kept)
    return Graph(graph.nodes, graph.edges, groups, frozenset(outside), kept)
