"""Pause Python's cyclic garbage collector around bulk engine work.

The drift engine builds and drops hundreds of thousands of small immutable objects (records,
tuples) that never form reference cycles, so reference counting frees them all. With a worker's
caches holding a few baselines, each collection the allocations trigger rescans that whole heap:
measured on 50,000-edge windows, collections doubled the time of loading a snapshot, analysing it
and sliding the baseline. Pausing the collector for the duration of such a call removes that cost;
the collector resumes afterwards (and then collects whatever cycles other code made meanwhile).

The pause is process-wide and counted, so overlapping pauses from worker threads nest: the
collector resumes when the last one ends, and only if it was running before the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

_lock = threading.Lock()
_depth = 0
_resume = False

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (nesting and threads allowed)."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()


def without_gc(func: Callable[P, R]) -> Callable[P, R]:
    """`func` run under `gc_paused` (for functions handed to `asyncio.to_thread`)."""

    @wraps(func)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with gc_paused():
            return func(*args, **kwargs)

    return paused
