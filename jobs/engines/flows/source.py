"""Reading inputs: paths or bytes, gzip detected by its magic bytes, line-aligned chunks.

A stream may be bounded (`open_stream(max_bytes=…)`): past that many bytes of (decompressed) data it raises
FlowFileRejected, so a gzip bomb costs at most the bound in CPU and one block in memory.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO, Final, cast

from jobs.engines.flows.exceptions import FlowFileRejected

Source = str | Path | bytes

GZIP_MAGIC: Final = b"\x1f\x8b"
BLOCK_BYTES: Final = 8 << 20
# A "line" longer than this is not a flow record; refusing it bounds memory on garbage input.
MAX_LINE_BYTES: Final = 64 << 20
GZIP_ERRORS: Final = (OSError, EOFError, zlib.error)


def read_all(source: Source) -> bytes:
    """The whole input, decompressed when it starts with the gzip magic bytes."""
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except GZIP_ERRORS as exc:
        raise FlowFileRejected(f"gzip data is corrupt or truncated ({exc})") from exc


class _Bounded(io.RawIOBase):
    """Reads through to `inner` until more than `limit` bytes came out of it, then refuses the file."""

    def __init__(self, inner: BinaryIO, limit: int, compressed: bool) -> None:
        super().__init__()
        self._inner, self._limit, self._seen, self._compressed = inner, limit, 0, compressed

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        # Reading "all" asks for one byte past the bound: enough to tell, never the whole bomb.
        want = self._limit + 1 - self._seen if size is None or size < 0 else size
        data = self._inner.read(max(want, 0))
        self._seen += len(data)
        if self._seen > self._limit:
            what = "decompresses to" if self._compressed else "is"
            raise FlowFileRejected(f"the file {what} more than {self._limit:,} bytes: over the limit per upload")
        return data


@contextmanager
def open_stream(source: Source, *, max_bytes: int | None = None) -> Iterator[BinaryIO]:
    """A binary stream over the (decompressed) input; closes everything it opened.

    With `max_bytes`, reading past that many bytes of the (decompressed) data raises FlowFileRejected.
    """
    with ExitStack() as stack:
        raw: BinaryIO = (
            io.BytesIO(source) if isinstance(source, bytes) else stack.enter_context(open(source, "rb"))
        )
        compressed = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        stream = cast(BinaryIO, stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))) if compressed else raw
        yield stream if max_bytes is None else cast(BinaryIO, _Bounded(stream, max_bytes, compressed))


def iter_chunks(stream: BinaryIO, *, batch_rows: int, max_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Yield (chunk, first_line): whole lines only, about `batch_rows` lines and at most ~`max_bytes`.

    Blocks are kept as read, and each chunk is copied out of them once: joining the blocks and then slicing
    the chunk off copied every byte twice, and fresh memory (page faults) costs more than the copy itself.
    """
    first_line, eof = 1, False
    parts: list[bytes] = []
    lines = size = 0
    while True:
        while not eof and lines <= batch_rows and size < max_bytes:
            block = _read_block(stream)
            eof = not block
            if block:
                parts.append(block)
            size, lines = size + len(block), lines + block.count(b"\n")
        if not size:
            return
        if eof and lines <= batch_rows and size <= max_bytes:
            yield _joined(parts, len(parts), size), first_line
            return
        at = _cut(parts, size, lines, batch_rows, max_bytes)
        if at is None and not eof:
            if size > MAX_LINE_BYTES:
                raise FlowFileRejected(f"line {first_line} is longer than {MAX_LINE_BYTES} bytes")
            max_bytes = 2 * size  # one very long line: read on until it ends
            continue
        index, offset = at if at is not None else (len(parts) - 1, len(parts[-1]))
        yield _joined(parts, index, offset), first_line
        rest = [parts[index][offset:], *parts[index + 1 :]] if offset < len(parts[index]) else parts[index + 1 :]
        # The rest is short (about one block): counting it is cheaper than counting the head.
        rest_lines = sum(part.count(b"\n") for part in rest)
        first_line += lines - rest_lines
        parts, lines, size = rest, rest_lines, sum(len(part) for part in rest)


def _joined(parts: list[bytes], index: int, offset: int) -> bytes:
    """parts[:index] and the first `offset` bytes of parts[index], as one bytes object (one copy)."""
    if index == len(parts):
        return parts[0] if len(parts) == 1 else b"".join(parts)
    if index == 0 and offset == len(parts[0]):
        return parts[0]
    return b"".join([*parts[:index], memoryview(parts[index])[:offset]])


def _cut(parts: list[bytes], size: int, lines: int, batch_rows: int, max_bytes: int) -> tuple[int, int] | None:
    """Where a batch ends: (part, offset) just after the newline nearest before about `batch_rows` lines (or
    `max_bytes`); else after the first newline; None when the parts hold no newline at all."""
    target = max(min(size * batch_rows // max(lines, 1), max_bytes, size), 1)
    start = 0
    found: tuple[int, int] | None = None
    for index, part in enumerate(parts):
        if start >= target:
            break
        newline = part.rfind(b"\n", 0, target - start)
        if newline >= 0:
            found = (index, newline + 1)
        start += len(part)
    if found is not None:
        return found
    for index, part in enumerate(parts):
        newline = part.find(b"\n")
        if newline >= 0:
            return index, newline + 1
    return None


def _read_block(stream: BinaryIO) -> bytes:
    try:
        return stream.read(BLOCK_BYTES)
    except GZIP_ERRORS as exc:
        raise FlowFileRejected(f"gzip data is corrupt or truncated ({exc})") from exc


def ensure_utf8(data: bytes) -> bytes:
    """`data` itself when valid UTF-8, else a copy with invalid bytes replaced by U+FFFD."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace").encode("utf-8")
    return data
