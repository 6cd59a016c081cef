"""The public entry points: parse a whole input, or stream it in batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

from jobs.engines.flows.detect import HEAD_BYTES, detect_format, reject_non_text
from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.formats import ChunkParser, FlowFormat, FormatChoice, format_spec
from jobs.engines.flows.result import ParseResult, combine_chunks
from jobs.engines.flows.source import Source, iter_chunks, open_stream, read_all

DEFAULT_BATCH_ROWS: Final = 500_000
# Caps a batch of long lines (Hubble, ~1.1 KB each) so a batch stays well under the memory budget: with one
# batch parsed ahead, 1M Hubble flows stream in 9 batches at ~730 MB peak (64 MB: 18 batches, 15–20 % slower).
MAX_BATCH_BYTES: Final = 128 << 20


def make_parser(fmt: FlowFormat, *, vpc_fields: Sequence[str] | None = None) -> ChunkParser:
    """A fresh parser for `fmt`. `vpc_fields` is the field list of a header-less custom VPC log."""
    return format_spec(fmt).new_parser(vpc_fields)


def parse_file(
    source: Source, fmt: FormatChoice = "auto", *, vpc_fields: Sequence[str] | None = None
) -> ParseResult:
    """Parse a whole flow file (path or bytes, gzip or not) into the canonical frame.

    Raises FlowFileRejected when the input is not a flow file; bad lines never raise.
    Use `iter_batches` for files too big to hold in memory.
    """
    data = read_all(source)
    chosen = _choose(fmt, data[:HEAD_BYTES])
    chunk = make_parser(chosen, vpc_fields=vpc_fields).parse_chunk(data, 1)
    return combine_chunks(chosen, [chunk])


def iter_batches(
    source: Source,
    fmt: FormatChoice = "auto",
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    vpc_fields: Sequence[str] | None = None,
    max_bytes: int | None = None,
) -> Iterator[ParseResult]:
    """Parse a flow file in batches of about `batch_rows` lines, one ParseResult per batch.

    Counts are per batch and line numbers are absolute, so summing the batches gives exactly
    what `parse_file` reports. Memory stays bounded by the batch, not the file. Past `max_bytes`
    of (decompressed) data, FlowFileRejected.
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    with open_stream(source, max_bytes=max_bytes) as stream:
        parser: ChunkParser | None = None
        chosen: FlowFormat | None = None
        for chunk, first_line in iter_chunks(stream, batch_rows=batch_rows, max_bytes=MAX_BATCH_BYTES):
            if parser is None or chosen is None:
                chosen = _choose(fmt, chunk[:HEAD_BYTES])
                parser = make_parser(chosen, vpc_fields=vpc_fields)
            yield combine_chunks(chosen, [parser.parse_chunk(chunk, first_line)])
        if parser is None:
            raise FlowFileRejected("the file is empty")


def _choose(fmt: FormatChoice, head: bytes) -> FlowFormat:
    if fmt == "auto":
        return detect_format(head)
    spec = format_spec(fmt)  # ValueError for an unknown name
    reject_non_text(head)
    return spec.name
