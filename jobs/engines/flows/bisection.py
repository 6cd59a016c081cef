"""Find exactly which lines of a chunk a reader cannot parse, by splitting the chunk in halves.

Used when a whole-chunk parse fails: the good halves still parse in bulk, and only the lines that
really fail are reported, each with its own line number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from jobs.engines.flows.result import BadLine

T = TypeVar("T")
Item = tuple[int, bytes]
# A reader returns (result, "") on success or (None, reason) on failure.
Reader = Callable[[bytes], tuple[T | None, str]]


def split_items(data: bytes, first_line: int) -> list[Item]:
    """(line number, line) for every non-blank line of `data`."""
    return [(first_line + i, line) for i, line in enumerate(data.split(b"\n")) if line.strip()]


def bisect_lines(
    items: list[Item], read: Reader[T], rows: Callable[[T], int]
) -> tuple[list[T], list[int], list[BadLine]]:
    """Parse `items` in as few reads as possible; a part is good when it yields one row per line.

    Returns the good results in line order, the line numbers of their rows, and the bad lines.
    """
    results: list[T] = []
    numbers: list[int] = []
    bad: list[BadLine] = []
    pending = [items] if items else []
    while pending:
        part = pending.pop()
        result, error = read(b"\n".join(line for _, line in part))
        if result is not None and rows(result) == len(part):
            results.append(result)
            numbers.extend(number for number, _ in part)
        elif len(part) == 1:
            bad.append(BadLine(part[0][0], error or "line holds more than one record"))
        else:
            # Push the second half first so parts are handled, and kept, in line order.
            middle = len(part) // 2
            pending.extend((part[middle:], part[:middle]))
    return results, numbers, bad
