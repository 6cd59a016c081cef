"""The verification universe: which connections policies allow versus which were observed.

Pure set algebra over an `IsolationIndex` that `evaluate.PolicySet.index()` builds, so the
semantics live in one place (evaluate.py) and this module only enumerates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

from jobs.engines.policy.ports import NP_PROTOCOLS, port_classes, ports_admit
from jobs.engines.policy.union import normalize_edge
from jobs.engines.snapshot.types import EdgeRecord

PortRange = tuple[str, int | None, int | None]
PortClass = tuple[str, int | None, int | None]
Pair = tuple[str, str]
Signature = tuple[frozenset[int], frozenset[int]]


class Connection(NamedTuple):
    """Traffic from `src` to `dst`; `end_port` set when the entry stands for a port range."""

    src: str
    dst: str
    protocol: str
    port: int | None
    end_port: int | None = None


@dataclass(frozen=True, slots=True)
class IsolationIndex:
    """Node keys, which are workloads, the rule ids isolating each node per direction, each
    rule's reach (the node keys its peers cover) and its port ranges (None = any traffic)."""

    keys: tuple[str, ...]
    workloads: frozenset[str]
    in_rules: dict[str, list[int]]
    eg_rules: dict[str, list[int]]
    reach: dict[int, frozenset[str]]
    ports: dict[int, tuple[PortRange, ...] | None]


@dataclass(frozen=True, slots=True)
class Verification:
    """Result of `evaluate.verify`; the lists are capped, the counts complete.

    `inexpressible` lists the observed-but-denied connections whose protocol no NetworkPolicy
    port can name (ICMP): only a rule without `ports` could admit them.
    """

    exact: bool
    allowed_not_observed: list[Connection]
    observed_not_allowed: list[Connection]
    allowed_not_observed_count: int
    observed_not_allowed_count: int
    inexpressible: list[Connection]
    classes: int


def observed_classes(edges: Iterable[EdgeRecord]) -> dict[tuple[str, int | None], set[Pair]]:
    """Group observed edges by (protocol, port): the pairs seen on each."""
    observed: dict[tuple[str, int | None], set[Pair]] = {}
    for raw in edges:
        edge = normalize_edge(raw)
        # a port of ICMP & co. is no port a NetworkPolicy could name
        port = edge.dst_port if edge.protocol in NP_PROTOCOLS else None
        observed.setdefault((edge.protocol, port), set()).add((edge.src, edge.dst))
    return observed


def compare_universe(
    index: IsolationIndex, observed: dict[tuple[str, int | None], set[Pair]], *, limit: int
) -> Verification:
    """Compare allowed with observed connections class by class (see `evaluate.verify`)."""
    classes = _classes(index, observed)
    in_ids = frozenset(chain.from_iterable(index.in_rules.values()))
    eg_ids = frozenset(chain.from_iterable(index.eg_rules.values()))
    cache: dict[Signature, set[Pair]] = {}
    extra: list[Connection] = []
    missing: list[Connection] = []
    extra_count = missing_count = 0
    for protocol, lo, hi in classes:
        signature = (_admitting(index, in_ids, lo, protocol), _admitting(index, eg_ids, lo, protocol))
        if signature not in cache:
            cache[signature] = _allowed_pairs(index, *signature)
        allowed = cache[signature]
        seen = {pair for pair in observed.get((protocol, lo), set()) if _in_universe(index, pair)}
        seen = seen if lo == hi else set()
        end = hi if hi != lo else None
        unobserved = allowed - seen
        extra_count += len(unobserved)
        extra += [Connection(s, d, protocol, lo, end) for s, d in sorted(unobserved)[: limit - len(extra)]]
        denied = seen - allowed
        missing_count += len(denied)
        missing += [Connection(s, d, protocol, lo) for s, d in sorted(denied)[: limit - len(missing)]]
    return Verification(
        exact=extra_count == 0 and missing_count == 0,
        allowed_not_observed=extra,
        observed_not_allowed=missing,
        allowed_not_observed_count=extra_count,
        observed_not_allowed_count=missing_count,
        inexpressible=[conn for conn in missing if conn.protocol not in NP_PROTOCOLS],
        classes=len(classes),
    )


def _classes(index: IsolationIndex, observed: dict[tuple[str, int | None], set[Pair]]) -> list[PortClass]:
    classes: list[PortClass] = []
    for protocol in NP_PROTOCOLS:
        ranges = [
            (first, last)
            for entries in index.ports.values()
            for proto, first, last in entries or ()
            if proto == protocol and first is not None and last is not None
        ]
        seen_ports = [port for proto, port in observed if proto == protocol and port is not None]
        classes += [(protocol, lo, hi) for lo, hi in port_classes(ranges, seen_ports)]
    # unknown ports and port-less protocols are checked only where observed
    classes += sorted({(protocol, None, None) for protocol, port in observed if port is None})
    return classes


def _admitting(
    index: IsolationIndex, rule_ids: frozenset[int], port: int | None, protocol: str
) -> frozenset[int]:
    return frozenset(rid for rid in rule_ids if ports_admit(index.ports[rid], port, protocol))


def _allowed_pairs(index: IsolationIndex, in_sig: frozenset[int], eg_sig: frozenset[int]) -> set[Pair]:
    outs = {src: _reach(index, rids, eg_sig) for src, rids in index.eg_rules.items()}
    pairs: set[Pair] = set()
    for dst in index.keys:
        rids = index.in_rules.get(dst)
        sources: Iterable[str] = index.keys if rids is None else _reach(index, rids, in_sig)
        dst_is_workload = dst in index.workloads
        for src in sources:
            if not dst_is_workload and src not in index.workloads:
                continue
            out = outs.get(src)
            if out is None or dst in out:
                pairs.add((src, dst))
    return pairs


def _reach(index: IsolationIndex, rule_ids: list[int], signature: frozenset[int]) -> frozenset[str]:
    return frozenset().union(*(index.reach[rid] for rid in rule_ids if rid in signature))


def _in_universe(index: IsolationIndex, pair: Pair) -> bool:
    return pair[0] in index.workloads or pair[1] in index.workloads
