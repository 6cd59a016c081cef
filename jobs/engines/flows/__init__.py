"""Flow ingestion: parsers of real flow formats into one canonical polars schema.

    parse_file(path_or_bytes, fmt="auto") -> ParseResult
    iter_batches(path_or_bytes, fmt="auto", batch_rows=500_000) -> Iterator[ParseResult]
    detect_format(head_bytes) -> FlowFormat

Formats: Zeek conn.log (TSV and JSON), AWS VPC / Transit Gateway flow logs, Cilium Hubble JSON,
and CSV / JSON lines of the canonical columns, each one entry of `FORMATS` (`formats.py`: names,
aliases, sniffer, parser). Pure engines: no database, no network.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.engines.flows.detect import detect_format
    from jobs.engines.flows.exceptions import FlowError, FlowFileRejected
    from jobs.engines.flows.formats import FLOW_FORMATS, FORMATS, FlowFormat, FlowFormatSpec
    from jobs.engines.flows.parse import iter_batches, make_parser, parse_file
    from jobs.engines.flows.result import MAX_STORED_ERRORS, BadLine, ParseResult
    from jobs.engines.flows.schema import CANONICAL_COLUMNS, CANONICAL_SCHEMA, empty_frame

# Imported on first use: `sg ingest` needs only `detect` and `source`, and importing every parser (polars,
# pyarrow) would cost each CLI run about half a second.
_HOMES = {
    "jobs.engines.flows.detect": ("detect_format",),
    "jobs.engines.flows.exceptions": ("FlowError", "FlowFileRejected"),
    "jobs.engines.flows.formats": ("FLOW_FORMATS", "FORMATS", "FlowFormat", "FlowFormatSpec"),
    "jobs.engines.flows.parse": ("iter_batches", "make_parser", "parse_file"),
    "jobs.engines.flows.result": ("MAX_STORED_ERRORS", "BadLine", "ParseResult"),
    "jobs.engines.flows.schema": ("CANONICAL_COLUMNS", "CANONICAL_SCHEMA", "empty_frame"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name not in _HOME_OF:
        raise AttributeError(f"module 'jobs.engines.flows' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME_OF[name]), name)


__all__ = [
    "CANONICAL_COLUMNS",
    "CANONICAL_SCHEMA",
    "FLOW_FORMATS",
    "FORMATS",
    "MAX_STORED_ERRORS",
    "BadLine",
    "FlowError",
    "FlowFileRejected",
    "FlowFormat",
    "FlowFormatSpec",
    "ParseResult",
    "detect_format",
    "empty_frame",
    "iter_batches",
    "make_parser",
    "parse_file",
]
