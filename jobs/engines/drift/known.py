"""What the detector looks up in a baseline, indexed once per baseline (and home networks).

Each index is a pass over the baseline's tens of thousands of edges. A baseline is immutable and,
in the worker, cached from one window to the next (and indexed right after it is rolled, off the
path from a new snapshot to its events), so the indexes are kept on the baseline itself
(`Baseline.derived`) and built at most once per home networks (they decide which views are external).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from jobs.engines.detect.home import HomeNetworks
from jobs.engines.drift.baseline import Baseline
from jobs.engines.drift.nodes import NodeView, baseline_views

PairKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class KnownIndex:
    """Lookups over one baseline."""

    seen: frozenset[str]  # node keys, including endpoints no node record described
    pairs: frozenset[PairKey]  # (src, dst) of every edge
    reach: dict[tuple[str, int | None, str], int]  # distinct sources per (dst, port, protocol)
    sources: int  # distinct sources
    views: dict[str, NodeView]  # node views of the baseline alone (`nodes.node_views` adds the window)
    outside_peers: dict[str, int]  # distinct outside peers each source already reaches
    # the outside ends each node already has edges with, either way (what "a new ASN for this host" compares to)
    outside_of: dict[str, tuple[str, ...]]


def known_index(known: Baseline, home: HomeNetworks | None = None) -> KnownIndex:
    """The baseline's index for `home`, built on first use."""
    cache_key = ("index", home)
    found = known.derived.get(cache_key)
    if isinstance(found, KnownIndex):
        return found
    edges = known.edges
    sources = {key[0] for key in edges}
    views = baseline_views(known, home)
    pairs = frozenset((key[0], key[1]) for key in edges)
    outside = Counter(src for src, dst in pairs if (view := views.get(dst)) is not None and view.external)
    counterparts: dict[str, set[str]] = {}
    for src, dst in pairs:
        for host, other in ((src, dst), (dst, src)):
            if (view := views.get(other)) is not None and view.external:
                counterparts.setdefault(host, set()).add(other)
    index = KnownIndex(
        seen=frozenset(known.nodes) | sources | {key[1] for key in edges},
        pairs=pairs,
        reach=dict(Counter((dst, port, proto) for _, dst, port, proto in edges)),
        sources=len(sources),
        views=views,
        outside_peers=dict(outside),
        outside_of={host: tuple(sorted(others)) for host, others in counterparts.items()},
    )
    known.derived[cache_key] = index
    return index
