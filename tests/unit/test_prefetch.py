"""jobs.runtime.prefetch: items in order, errors where they happened, early stops close the source."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from jobs.runtime.prefetch import prefetched


def test_items_arrive_in_order_from_another_thread() -> None:
    threads: list[str] = []

    def numbers() -> Iterator[int]:
        for i in range(50):
            threads.append(threading.current_thread().name)
            yield i

    assert list(prefetched(numbers(), depth=2)) == list(range(50))
    assert set(threads) == {"prefetch"}


def test_an_error_is_raised_where_its_item_would_be() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("line 3 is not a flow")

    seen: list[int] = []
    with pytest.raises(ValueError, match="line 3"):
        for item in prefetched(failing()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_source_on_its_thread() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def endless() -> Iterator[int]:
        try:
            i = 0
            while True:
                produced.append(i)
                yield i
                i += 1
        finally:
            closed.set()

    for item in prefetched(endless(), depth=1):
        if item == 3:
            break
    assert closed.is_set()
    # One item in hand, one in the queue, at most one being made when the caller stopped.
    assert len(produced) <= 6


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError):
        list(prefetched(iter([1]), depth=0))
