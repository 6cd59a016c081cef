"""What the Graph page opened (the snapshot's graph, the diff base, layout, diff and drift events), kept per process.

A Reflex state is pickled to Redis after every event and read back before the next: a 5,000-node graph in a backend
var cost ~0.4 s of every filter change. The state keeps only the ids; the page's handlers take the opened graphs from
here, and a process that has not got them (another web worker, a restart, an evicted entry) opens them again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from jobs.engines.graph.diff import GraphDiff, union
from jobs.engines.graph.layout import Layout
from jobs.engines.graph.model import Graph

# a few tenants' open views at once; each is dropped first-used-first when more are opened
MAX_OPENED = 8


@dataclass(frozen=True)
class Opened:
    """One opened view: the snapshot's graph (placed), the diff base when comparing, their layout, the diff, the
    snapshot's drift events, and a notice for the page (a missing base, no enrichment)."""

    graph: Graph
    base: Graph | None
    layout: Layout
    diff: GraphDiff | None
    events: list[dict[str, Any]]
    notice: str = ""

    @cached_property
    def shown(self) -> Graph:
        """The graph the page draws: with a diff, base and snapshot together (made once per opened view)."""
        return union(self.base, self.graph) if self.base is not None else self.graph


Key = tuple[int, str, str]
_opened: OrderedDict[Key, Opened] = OrderedDict()
_lock = threading.Lock()


def cached(key: Key) -> Opened | None:
    """The view opened under (tenant, snapshot, compare), if this process has it."""
    with _lock:
        found = _opened.get(key)
        if found is not None:
            _opened.move_to_end(key)
        return found


def keep(key: Key, opened: Opened) -> None:
    """Remember a freshly opened view (replacing what was kept under its key)."""
    with _lock:
        _opened[key] = opened
        _opened.move_to_end(key)
        while len(_opened) > MAX_OPENED:
            _opened.popitem(last=False)
