"""Reading inputs: paths or bytes, gzip detected by its magic bytes, line-aligned chunks."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO, Final, cast

from jobs.flows.exceptions import FlowFileRejected

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


@contextmanager
def open_stream(source: Source) -> Iterator[BinaryIO]:
    """A binary stream over the (decompressed) input; closes everything it opened."""
    with ExitStack() as stack:
        raw: BinaryIO = (
            io.BytesIO(source) if isinstance(source, bytes) else stack.enter_context(open(source, "rb"))
        )
        if raw.read(2) != GZIP_MAGIC:
            raw.seek(0)
            yield raw
            return
        raw.seek(0)
        yield cast(BinaryIO, stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")))


def iter_chunks(stream: BinaryIO, *, batch_rows: int, max_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Yield (chunk, first_line): whole lines only, about `batch_rows` lines and at most ~`max_bytes`."""
    first_line, buffer, eof = 1, b"", False
    while True:
        parts, lines = [buffer], buffer.count(b"\n")
        size = len(buffer)
        while not eof and lines <= batch_rows and size < max_bytes:
            block = _read_block(stream)
            eof = not block
            parts.append(block)
            size, lines = size + len(block), lines + block.count(b"\n")
        buffer = b"".join(parts)
        if not buffer:
            return
        if eof and lines <= batch_rows and size <= max_bytes:
            yield buffer, first_line
            return
        cut = _cut(buffer, lines, batch_rows, max_bytes)
        if cut == 0 and not eof:
            if len(buffer) > MAX_LINE_BYTES:
                raise FlowFileRejected(f"line {first_line} is longer than {MAX_LINE_BYTES} bytes")
            max_bytes = 2 * len(buffer)  # one very long line: read on until it ends
            continue
        cut = cut or len(buffer)
        head, buffer = buffer[:cut], buffer[cut:]
        yield head, first_line
        # The rest is short (about one block): counting it is cheaper than counting the head.
        first_line += lines - buffer.count(b"\n")


def _cut(buffer: bytes, lines: int, batch_rows: int, max_bytes: int) -> int:
    """End of a batch: just after the newline nearest to `batch_rows` lines (or `max_bytes`)."""
    target = min(len(buffer) * batch_rows // max(lines, 1), max_bytes, len(buffer))
    cut = buffer.rfind(b"\n", 0, max(target, 1)) + 1
    return cut or buffer.find(b"\n") + 1


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
