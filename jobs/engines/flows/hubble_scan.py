"""Hubble JSON lines → a polars frame of the fields we use, through the native `_hubble_scan`.

Decisions:
- Validating and extracting is C (`jobs/engines/flows/_hubble_scan.c`; its header lists what it checks):
  pyarrow's JSON reader spent ~4 CPU-s per million ~1.1 KB lines tokenising fields we never
  read, and polars, orjson, msgspec and duckdb were measured slower. The scanner hands back
  Arrow buffers, so no Python object is made per row.
- Field groups come out flat and already merged: `flow.X` when the "flow" object has X, else
  the top-level X. `IP` and each L4 protocol are booleans "present as an object"; their
  fields are columns named by path (`IP.source`, `TCP.destination_port`, `ICMPv4.type`).
- Endpoints repeat on nearly every line, so rows carry `src_endpoint`/`dst_endpoint`, indexes
  into `endpoints`: (namespace, pod_name, workload, labels) once per distinct endpoint object
  text, in order of first appearance (the same fields written differently may appear twice).
- The frame's columns are the scanner's own memory (one Arrow chunk per thread), not copies.
- Invalid UTF-8 inside a string: the scanner refuses the chunk and it is scanned again after
  `ensure_utf8` put U+FFFD in place of the bad bytes, as the pyarrow reader did; only such
  chunks pay for two scans.
- Threads: one per CPU (the scanner gives each at least 1 MB); results do not depend on it.
- Hash flooding: endpoint texts are hashed with a random per-process key, and a probe run past
  MAX_PROBES (colliding texts, only possible with the key) rejects the file instead of going quadratic.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, cast

import polars as pl
import pyarrow as pa

import jobs.engines.flows._hubble_scan as _hubble_scan
from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.result import BadLine
from jobs.engines.flows.source import ensure_utf8

# (namespace, pod_name, workloads[0].name, labels)
Endpoint = tuple[str | None, str | None, str | None, list[str] | None]
# Per column: null count, validity (None when no nulls), then the other Arrow buffers (objects
# with the buffer protocol that own the scanner's memory).
Column = tuple[int, *tuple[object | None, ...]]
# rows; per thread (rows, columns) in line order; endpoints; (line, reason) per bad line
RawScan = tuple[int, tuple[tuple[int, tuple[Column, ...]], ...], list[Endpoint], list[tuple[int, str]]]

_scan: Final[Callable[[bytes, int, int], RawScan]] = _hubble_scan.scan
COLUMNS: Final[tuple[tuple[str, str], ...]] = _hubble_scan.COLUMNS
MAX_DEPTH: Final[int] = _hubble_scan.MAX_DEPTH
MAX_PROBES: Final[int] = _hubble_scan.MAX_PROBES
# Each thread gets at least this many bytes, so small chunks are scanned by one thread.
MIN_PART_BYTES: Final[int] = _hubble_scan.MIN_PART_BYTES
ARROW_TYPES: Final = {"int64": pa.int64(), "bool": pa.bool_(), "string": pa.large_string(), "uint32": pa.uint32()}
THREADS: Final = os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class ScannedChunk:
    """The object lines of a chunk as rows, the distinct endpoints they name, and the bad lines."""

    rows: pl.DataFrame
    endpoints: list[Endpoint]
    bad: list[BadLine]


def scan_chunk(chunk: bytes, first_line: int, threads: int = THREADS) -> ScannedChunk:
    """Scan every line of `chunk` (line numbers from `first_line`); blank lines are not records.

    Raises FlowFileRejected when the endpoint objects collide in the scanner's hash table (hash flooding).
    """
    try:
        try:
            _, parts, endpoints, bad = _scan(chunk, first_line, threads)
        except UnicodeDecodeError:
            _, parts, endpoints, bad = _scan(ensure_utf8(chunk), first_line, threads)
    except _hubble_scan.HashFlood as exc:
        raise FlowFileRejected(str(exc)) from exc
    arrays = [
        pa.chunked_array([_array(kind, rows, columns[index]) for rows, columns in parts], ARROW_TYPES[kind])
        for index, (_, kind) in enumerate(COLUMNS)
    ]
    table = pa.Table.from_arrays(arrays, names=[name for name, _ in COLUMNS])
    frame = cast(pl.DataFrame, pl.from_arrow(table))  # a Table always converts to a DataFrame
    return ScannedChunk(frame, endpoints, [BadLine(line, reason) for line, reason in bad])


def _array(kind: str, rows: int, column: Column) -> pa.Array:
    null_count, *buffers = column
    return pa.Array.from_buffers(
        ARROW_TYPES[kind], rows, [None if b is None else pa.py_buffer(b) for b in buffers], null_count=null_count
    )
