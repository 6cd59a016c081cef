"""Reading inputs: paths or bytes, gzip detected by its magic bytes, line-aligned chunks."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO, Final

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
        yield stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))


def iter_chunks(stream: BinaryIO, *, batch_rows: int, max_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Yield (chunk, first_line) with whole lines only, about `batch_rows` lines or `max_bytes` each."""
    first_line = 1
    parts: list[bytes] = []
    size = lines = 0
    while block := _read_block(stream):
        parts.append(block)
        size += len(block)
        lines += block.count(b"\n")
        if lines < batch_rows and size < max_bytes:
            continue
        buffer = b"".join(parts)
        cut = buffer.rfind(b"\n") + 1
        if cut == 0 and size > MAX_LINE_BYTES:
            raise FlowFileRejected(f"line {first_line} is longer than {MAX_LINE_BYTES} bytes")
        if cut == 0:
            parts, lines = [buffer], 0
            continue
        yield buffer[:cut], first_line
        first_line += lines
        parts = [buffer[cut:]] if cut < len(buffer) else []
        size, lines = len(buffer) - cut, 0
    if parts:
        yield b"".join(parts), first_line


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
