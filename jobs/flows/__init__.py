"""Flow ingestion: parsers of real flow formats into one canonical polars schema.

    parse_file(path_or_bytes, fmt="auto") -> ParseResult
    iter_batches(path_or_bytes, fmt="auto", batch_rows=500_000) -> Iterator[ParseResult]
    detect_format(head_bytes) -> FlowFormat

Formats: Zeek conn.log (TSV and JSON), AWS VPC / Transit Gateway flow logs, Cilium Hubble JSON,
and CSV / JSON lines of the canonical columns. Pure engines: no database, no network.
"""

from jobs.flows.detect import detect_format
from jobs.flows.exceptions import FlowError, FlowFileRejected
from jobs.flows.parse import iter_batches, make_parser, parse_file
from jobs.flows.result import MAX_STORED_ERRORS, BadLine, ParseResult
from jobs.flows.schema import CANONICAL_COLUMNS, CANONICAL_SCHEMA, FLOW_FORMATS, FlowFormat, empty_frame

__all__ = [
    "CANONICAL_COLUMNS",
    "CANONICAL_SCHEMA",
    "FLOW_FORMATS",
    "MAX_STORED_ERRORS",
    "BadLine",
    "FlowError",
    "FlowFileRejected",
    "FlowFormat",
    "ParseResult",
    "detect_format",
    "empty_frame",
    "iter_batches",
    "make_parser",
    "parse_file",
]
