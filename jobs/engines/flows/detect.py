"""Guess the flow format of an input from its first bytes (after gzip decompression).

Only the head of the input is looked at. The guess is deliberately shallow: the chosen parser
then checks the header or layout thoroughly and rejects the file with a precise reason.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final

from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.vpc_layouts import is_header

if TYPE_CHECKING:  # the schema module imports polars, which `sg ingest` does not need to look at a head
    from jobs.engines.flows.schema import FlowFormat

HEAD_BYTES: Final = 64 << 10
_JSON_PROBES: Final = 5
_MAGIC: Final = {
    b"\x89PNG\r\n\x1a\n": "a PNG image", b"%PDF": "a PDF document", b"PK\x03\x04": "a ZIP archive",
    b"\x7fELF": "an ELF binary", b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image",
    b"BZh": "bzip2 data", b"\xfd7zXZ\x00": "xz data", b"\x28\xb5\x2f\xfd": "zstd data",
}
_TEXT_BYTES: Final = bytes([9, 10, 13, *range(32, 127), *range(128, 256)])
BINARY_SHARE: Final = 0.1
_HUBBLE_KEYS: Final = frozenset({"flow", "IP", "l4", "verdict"})
_ZEEK_KEYS: Final = frozenset({"id.orig_h", "id.resp_h", "uid"})
_CANONICAL_KEYS: Final = frozenset({"ts_start", "src_ip", "dst_ip"})


def detect_format(head: bytes) -> FlowFormat:
    """The format of an input whose first bytes are `head`; FlowFileRejected when none fits."""
    head = head[:HEAD_BYTES]
    reject_non_text(head)
    lines = [line.strip() for line in head.split(b"\n") if line.strip()]
    first = lines[0]
    if first.startswith(b"#"):
        if b"#fields" in head or b"#separator" in head:
            return "zeek_tsv"
        raise FlowFileRejected("lines start with '#' but there is no Zeek #fields header")
    if first.startswith(b"{"):
        return _json_format(lines[:_JSON_PROBES])
    text = first.decode("utf-8", "replace")
    if "," in text:
        return "csv"
    tokens = text.split(" ")
    if is_header(tokens) or (tokens[0].isdigit() and len(tokens) >= 6):
        return "vpc"
    raise FlowFileRejected(
        "unrecognised format: not Zeek, VPC flow log, Hubble JSON or canonical CSV/JSON lines"
    )


def reject_non_text(head: bytes) -> None:
    """Raise FlowFileRejected when the input is empty or binary (known magic, control bytes)."""
    if not head.strip():
        raise FlowFileRejected("the file is empty")
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise FlowFileRejected(f"not a flow file: the data is {what}")
    sample = head[:HEAD_BYTES]
    # A few stray control bytes are bad lines; a head full of them is not text at all.
    if len(sample.translate(None, _TEXT_BYTES)) > BINARY_SHARE * len(sample):
        raise FlowFileRejected("not a flow file: the data is binary")


def _json_format(lines: list[bytes]) -> FlowFormat:
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        keys = set(record)
        if keys & _HUBBLE_KEYS:
            return "hubble"
        if keys & _ZEEK_KEYS:
            return "zeek_json"
        if keys >= _CANONICAL_KEYS:
            return "jsonl"
        raise FlowFileRejected(
            f"JSON lines without flow keys (Hubble, Zeek or canonical); first keys: {sorted(keys)[:5]}"
        )
    raise FlowFileRejected("the first lines start with '{' but are not JSON objects")
