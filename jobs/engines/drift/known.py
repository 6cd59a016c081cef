"""What the detector looks up in a baseline, indexed once per baseline.

Each index is a pass over the baseline's tens of thousands of edges. A baseline is immutable and,
in the worker, cached from one window to the next (and indexed right after it is rolled, off the
path from a new snapshot to its events), so the indexes are kept on the baseline itself
(`Baseline.derived`) and built at most once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from jobs.engines.drift.baseline import Baseline, PairHistory, PairKey
from jobs.engines.drift.nodes import NodeView, baseline_views


@dataclass(frozen=True, slots=True)
class KnownIndex:
    """Lookups over one baseline."""

    seen: frozenset[str]  # node keys, including endpoints no node record described
    pairs: frozenset[PairKey]  # (src, dst) of every edge
    reach: dict[tuple[str, int | None, str], int]  # distinct sources per (dst, port, protocol)
    sources: int  # distinct sources
    views: dict[str, NodeView]  # node views of the baseline alone (`nodes.node_views` adds the window)
    pairs_by_source: dict[str, list[tuple[str, PairHistory]]]  # connection histories per source


def known_index(known: Baseline) -> KnownIndex:
    """The baseline's index, built on first use."""
    found = known.derived.get("index")
    if isinstance(found, KnownIndex):
        return found
    edges = known.edges
    sources = {key[0] for key in edges}
    index = KnownIndex(
        seen=frozenset(known.nodes) | sources | {key[1] for key in edges},
        pairs=frozenset((key[0], key[1]) for key in edges),
        reach=dict(Counter((dst, port, proto) for _, dst, port, proto in edges)),
        sources=len(sources),
        views=baseline_views(known),
        pairs_by_source=_by_source(known),
    )
    known.derived["index"] = index
    return index


def _by_source(known: Baseline) -> dict[str, list[tuple[str, PairHistory]]]:
    grouped: dict[str, list[tuple[str, PairHistory]]] = {}
    for (src, dst), history in known.pairs.items():
        grouped.setdefault(src, []).append((dst, history))
    return grouped
