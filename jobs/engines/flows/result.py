"""What a parse returns: the canonical frame plus exact counts of what happened to every record.

`records` counts the data records seen (blank lines, comments and header lines are not records).
Every record is exactly one of: `accepted` (a row of `frame`), `rejected` (a bad line, reported
in `errors` with its 1-based line number) or `skipped` (a well-formed record that is not a flow
edge, such as a VPC NODATA row; counted per reason in `skip_reasons`). So
`accepted + rejected + skipped == records` always holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from jobs.engines.flows.names import FlowFormat
from jobs.engines.flows.schema import empty_frame

# What each parser's skip reason means to a reader of the Sources page (reasons not listed are shown as they are).
SKIP_EXPLANATIONS: dict[str, str] = {
    "reply direction": "replies (the request of the same connection already gives the edge)",
    "direction unknown": "direction unknown (no TCP flag, reply field, ICMP type or port says which side asked)",
    "flow without IP addresses": "events without IP addresses (not IP traffic)",
    "flow without L4 protocol": "events without an L4 protocol (no TCP, UDP, ICMP or SCTP)",
    "vpc NODATA": "VPC NODATA rows (no traffic in the interval)",
    "vpc SKIPDATA": "VPC SKIPDATA rows (records AWS skipped in the interval)",
}


def explain_skips(skip_reasons: dict[str, int]) -> list[str]:
    """Each skip reason as "412 replies (…)", most frequent first."""
    ordered = sorted(skip_reasons.items(), key=lambda item: (-item[1], item[0]))
    return [f"{count:,} {SKIP_EXPLANATIONS.get(reason, reason)}" for reason, count in ordered if count]


# The error list is capped so a file of garbage cannot exhaust memory; the count stays exact.
MAX_STORED_ERRORS = 1000


@dataclass(frozen=True, slots=True)
class BadLine:
    """One rejected record: its 1-based line number in the (decompressed) input, and why."""

    line: int
    reason: str


@dataclass(slots=True)
class ParseResult:
    """The outcome of parsing one input (or one batch of it, from `iter_batches`)."""

    format: FlowFormat
    frame: pl.DataFrame
    records: int
    accepted: int
    rejected: int
    skipped: int
    errors: list[BadLine] = field(default_factory=list)
    skip_reasons: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class ChunkResult:
    """What one parser returns for one chunk of lines (internal to the parsers)."""

    frame: pl.DataFrame
    records: int
    errors: list[BadLine]
    skip_reasons: Counter[str]


def empty_chunk() -> ChunkResult:
    """A chunk result with nothing in it."""
    return ChunkResult(frame=empty_frame(), records=0, errors=[], skip_reasons=Counter())


def combine_chunks(fmt: FlowFormat, chunks: Iterable[ChunkResult]) -> ParseResult:
    """Merge chunk results into one ParseResult, keeping counts exact and capping stored errors."""
    frames: list[pl.DataFrame] = []
    records = rejected = 0
    errors: list[BadLine] = []
    skips: Counter[str] = Counter()
    for chunk in chunks:
        frames.append(chunk.frame)
        records += chunk.records
        rejected += len(chunk.errors)
        errors.extend(chunk.errors[: MAX_STORED_ERRORS - len(errors)])
        skips.update(chunk.skip_reasons)
    frame = pl.concat(frames, how="vertical", rechunk=False) if frames else empty_frame()
    return ParseResult(
        format=fmt,
        frame=frame,
        records=records,
        accepted=frame.height,
        rejected=rejected,
        skipped=sum(skips.values()),
        errors=errors,
        skip_reasons=dict(sorted(skips.items())),
    )
