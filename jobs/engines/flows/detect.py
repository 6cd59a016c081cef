"""Guess the flow format of an input from its first bytes (after gzip decompression).

Only the head of the input is looked at. The guess is deliberately shallow: the chosen parser
then checks the header or layout thoroughly and rejects the file with a precise reason.
"""

from __future__ import annotations

import json
from typing import Final

from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.formats import FORMATS, Family, FlowFormat, Head, family_of, titles

HEAD_BYTES: Final = 64 << 10
_JSON_PROBES: Final = 5
_MAGIC: Final = {
    b"\x89PNG\r\n\x1a\n": "a PNG image", b"%PDF": "a PDF document", b"PK\x03\x04": "a ZIP archive",
    b"\x7fELF": "an ELF binary", b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image",
    b"BZh": "bzip2 data", b"\xfd7zXZ\x00": "xz data", b"\x28\xb5\x2f\xfd": "zstd data",
}
_TEXT_BYTES: Final = bytes([9, 10, 13, *range(32, 127), *range(128, 256)])
BINARY_SHARE: Final = 0.1


def detect_format(head: bytes) -> FlowFormat:
    """The format of an input whose first bytes are `head` (the registry's sniffers, in its order);
    FlowFileRejected when none fits."""
    head = head[:HEAD_BYTES]
    reject_non_text(head)
    lines = [line.strip() for line in head.split(b"\n") if line.strip()]
    family = family_of(lines[0])
    seen = Head(lines[0], head, _first_object_keys(lines[:_JSON_PROBES]) if family == "json" else None)
    for spec in FORMATS:
        if spec.family == family and spec.sniff(seen):
            return spec.name
    raise FlowFileRejected(_why_none(family, seen))


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


def _first_object_keys(lines: list[bytes]) -> frozenset[str] | None:
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            return frozenset(record)
    return None


def _why_none(family: Family, seen: Head) -> str:
    if family == "comment":
        return "lines start with '#' but there is no Zeek #fields header"
    if family == "json" and seen.json_keys is None:
        return "the first lines start with '{' but are not JSON objects"
    if family == "json":
        return f"JSON lines without flow keys ({titles('json')}); first keys: {sorted(seen.json_keys or ())[:5]}"
    return f"unrecognised format: not {titles()}"
