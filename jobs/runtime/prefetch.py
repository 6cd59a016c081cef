"""Run an iterator one step ahead on a background thread: the next item is produced while the caller
works on the current one.

Ingestion uses it to parse batch k+1 while batch k is aggregated and written. Both sides are mostly
polars and pyarrow work, which releases the GIL, so on two cores they overlap instead of alternating.
Items arrive in order; an exception raised by the iterator is raised in the caller at the point
where that item would have arrived; when the caller stops early (an exception of its own, `break`),
the producer stops after at most the item it is working on and closes the iterator on its own thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class _Item(Generic[T]):
    value: T


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


class _End:
    pass


class _Producer(Generic[T]):
    """Drives the iterator on its own thread and hands each item over through a bounded queue."""

    def __init__(self, items: Iterator[T], depth: int) -> None:
        self.items = items
        self.handoff: queue.Queue[_Item[T] | _Failed | _End] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="prefetch", daemon=True)

    def _put(self, message: _Item[T] | _Failed | _End) -> bool:
        """Hand a message over; False once the caller has stopped listening."""
        while not self.stop.is_set():
            try:
                self.handoff.put(message, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def _run(self) -> None:
        try:
            for value in self.items:
                if not self._put(_Item(value)):
                    return
            self._put(_End())
        except BaseException as exc:  # noqa: BLE001 - not swallowed: the caller re-raises it
            self._put(_Failed(exc))
        finally:
            close = getattr(self.items, "close", None)
            if close is not None:
                close()


def prefetched(items: Iterator[T], *, depth: int = 1) -> Generator[T, None, None]:
    """Yield what `items` yields, producing up to `depth` items ahead on a background thread."""
    if depth < 1:
        raise ValueError("depth must be at least 1")
    producer = _Producer(items, depth)
    producer.thread.start()
    try:
        while True:
            message = producer.handoff.get()
            if isinstance(message, _End):
                return
            if isinstance(message, _Failed):
                raise message.error
            yield message.value
    finally:
        producer.stop.set()
        producer.thread.join()
