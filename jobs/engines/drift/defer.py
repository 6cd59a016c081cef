"""Drift defers to detection (docs/detection.md, decision 5): the edges that raise no drift event.

Detection (`jobs.engines.detect`) owns scans, brute force and beacons; what it already explains must not
come back as hundreds of drift events. An edge raises nothing when

- it is ICMP (any source);
- its source is outside the home networks and
  - that actor scanned or guessed passwords within a day (`excluded`: actor → until, epoch seconds; an
    outside IPv4 address acts as its /24, as detection names actors), or
  - it goes to an exposed service (`exposed`: home host, port, protocol reached by many outside sources), or
  - nobody answered any of its connections (the edge's `unanswered` equals its flows; older snapshots say 0);
- it is a stable edge that disappeared (`removed_edge`) and its source is outside.

These apply to the edge events new_external, new_port, new_edge and traffic_spike. A new node is reported
unless its address names no host (`names_no_host`: multicast, link-local, loopback, unspecified).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Final, Literal

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.drift.nodes import NodeView, is_home
from jobs.engines.snapshot.types import EdgeRecord

ServiceKey = tuple[str, int, str]
Rule = Literal["icmp", "excluded_actor", "exposed_service", "unanswered", "outside_removed"]
_V4: Final = re.compile(r"^(\d+\.\d+\.\d+)\.\d+$")
ICMP_PROTOCOLS: Final = frozenset({"icmp", "icmp6", "icmpv6", "ipv6-icmp"})


@dataclass(frozen=True, slots=True)
class Deferral:
    """What detection covers for one window: the tenant's home networks, the actors it saw scanning or
    guessing (actor → until, epoch seconds) and the exposed services (home host, port, protocol)."""

    home: HomeNetworks | None = None
    excluded: Mapping[str, float] = field(default_factory=dict)
    exposed: AbstractSet[ServiceKey] = frozenset()

    def outside(self, key: str, nodes: Mapping[str, NodeView]) -> bool:
        """Whether `key` is an outside node: not home when the home networks are known, else external."""
        if self.home is not None:
            return not is_home(key, self.home)
        view = nodes.get(key)
        return view is not None and view.external

    def edge_rule(self, edge: EdgeRecord, nodes: Mapping[str, NodeView], window: float) -> Rule | None:
        """The rule that keeps a new or spiking edge quiet, or None when it may raise an event."""
        if is_icmp(edge.protocol):
            # ICMP is signalling, not a service: edges lose the ICMP type, so an echo reply or an unreachable
            # looks like a new path, and a sweep of hosts is detection's scan
            return "icmp"
        if not self.outside(edge.src, nodes):
            return None
        if self.excluded.get(actor_of(edge.src), -float("inf")) >= window:
            # the actor's scan or brute force is already an incident: its new edges are that campaign's traces
            return "excluded_actor"
        if edge.dst_port is not None and (edge.dst, edge.dst_port, edge.protocol) in self.exposed:
            # a service many strangers reach and get answered by meets a new stranger every hour, by design
            return "exposed_service"
        if edge.flows > 0 and edge.unanswered >= edge.flows:
            # nothing came back on any connection: a probe carried nothing; detection counts probes as scans
            return "unanswered"
        return None

    def removed_rule(self, src: str, protocol: str, nodes: Mapping[str, NodeView]) -> Rule | None:
        """The rule that keeps a disappeared edge quiet, or None."""
        if is_icmp(protocol):
            return "icmp"
        if self.outside(src, nodes):
            # an outside client that stops coming is its own business; a home path that stops is what
            # removed_edge is for
            return "outside_removed"
        return None


def names_no_host(key: str) -> bool:
    """True for an address that is a group or a link's own (multicast, link-local, loopback, unspecified): a
    stream to a multicast group, or a link-local neighbour announcement, is no new node of the estate."""
    try:
        address = ipaddress.ip_address(key)
    except ValueError:
        return False
    return address.is_multicast or address.is_link_local or address.is_loopback or address.is_unspecified


def is_icmp(protocol: str) -> bool:
    """True for ICMP and ICMPv6, whatever the source calls them."""
    return protocol.lower() in ICMP_PROTOCOLS


def actor_of(key: str) -> str:
    """The actor a node acts as, named as detection names it (`jobs.engines.detect.frame.actor`): an IPv4
    address outside as its /24 (scanners rotate through neighbouring addresses), anything else as itself."""
    match = _V4.match(key)
    if match is None:
        return key
    try:
        ipaddress.IPv4Address(key)
    except ValueError:
        return key
    return f"{match.group(1)}.0/24"


def home_actor(key: str, home: HomeNetworks) -> str:
    """A home node acts as itself, an outside one as `actor_of`."""
    return key if is_home(key, home) else actor_of(key)
