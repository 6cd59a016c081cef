"""The flow formats, in one registry: per format its name, the names users give it (REST, the CLI, the Sources
page), how its first bytes are recognised (`detect`) and which parser reads it (`parse`).

A new format is one `FlowFormatSpec` in `FORMATS` plus its name in the `FlowFormat` Literal of `names.py` (a unit
test checks that the two agree). Standard library only: `sg ingest --help` reads the names without loading a parser; a
parser is imported by its dotted path when a file of its format is parsed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, Protocol

from jobs.engines.flows.names import FlowFormat as FlowFormat  # re-exported: the registry names them
from jobs.engines.flows.names import FormatChoice as FormatChoice
from jobs.engines.flows.vpc_layouts import is_header

if TYPE_CHECKING:  # the result module imports polars
    from jobs.engines.flows.result import ChunkResult

# Which first line a format starts with: a '#' comment, a '{' JSON object, or any other text.
Family = Literal["comment", "json", "text"]


class ChunkParser(Protocol):
    """A parser of one format; it may keep state (headers) from one chunk to the next."""

    def parse_chunk(self, chunk: bytes, first_line: int) -> ChunkResult:
        """Parse whole lines starting at line `first_line`."""
        ...


@dataclass(frozen=True)
class Head:
    """What detection looks at: the first non-blank line, the whole head, the keys of the first JSON object."""

    first_line: bytes
    text: bytes
    json_keys: frozenset[str] | None = None


@dataclass(frozen=True)
class FlowFormatSpec:
    """One flow format. `sniff` sees the head of a file of `family`; `parser` is "module:factory"."""

    name: FlowFormat
    title: str
    aliases: tuple[str, ...]
    family: Family
    sniff: Callable[[Head], bool]
    parser: str
    # The parser takes the field list of a header-less file (custom VPC layouts).
    takes_fields: bool = False

    def __post_init__(self) -> None:
        module, _, factory = self.parser.partition(":")
        if not module or not factory:
            raise ValueError(f"{self.name}: parser must be 'module:factory', not {self.parser!r}")
        if not self.aliases or "auto" in self.aliases:
            raise ValueError(f"{self.name}: needs at least one alias, and 'auto' is reserved")

    def new_parser(self, fields: Sequence[str] | None = None) -> ChunkParser:
        """A fresh parser of this format (its module is imported on first use)."""
        module, _, factory_name = self.parser.partition(":")
        factory = getattr(importlib.import_module(module), factory_name)
        parser: ChunkParser = factory(fields) if self.takes_fields else factory()
        return parser


def family_of(first_line: bytes) -> Family:
    """The family of a file whose first non-blank line is `first_line`."""
    if first_line.startswith(b"#"):
        return "comment"
    return "json" if first_line.startswith(b"{") else "text"


def _keys_any(*keys: str) -> Callable[[Head], bool]:
    wanted = frozenset(keys)
    return lambda head: head.json_keys is not None and bool(head.json_keys & wanted)


def _keys_all(*keys: str) -> Callable[[Head], bool]:
    wanted = frozenset(keys)
    return lambda head: head.json_keys is not None and head.json_keys >= wanted


def _zeek_header(head: Head) -> bool:
    return b"#fields" in head.text or b"#separator" in head.text


def _vpc_line(head: Head) -> bool:
    if b"," in head.first_line:  # a comma makes it CSV
        return False
    tokens = head.first_line.decode("utf-8", "replace").split(" ")
    return is_header(tokens) or (tokens[0].isdigit() and len(tokens) >= 6)


# Detection tries the formats of a family in this order (a JSON object with Hubble keys is Hubble even when it
# also has Zeek's); the names users see keep it too, after "auto".
FORMATS: Final[tuple[FlowFormatSpec, ...]] = (
    FlowFormatSpec("zeek_tsv", "Zeek conn.log (TSV)", ("zeek",), "comment", _zeek_header,
                   "jobs.engines.flows.zeek_tsv:ZeekTsvParser"),
    FlowFormatSpec("vpc", "AWS VPC Flow Logs", ("vpcflow",), "text", _vpc_line,
                   "jobs.engines.flows.vpc:VpcParser", takes_fields=True),
    FlowFormatSpec("hubble", "Cilium Hubble JSON", ("hubble",), "json", _keys_any("flow", "IP", "l4", "verdict"),
                   "jobs.engines.flows.hubble:HubbleParser"),
    FlowFormatSpec("zeek_json", "Zeek conn.log (JSON)", ("zeek",), "json", _keys_any("id.orig_h", "id.resp_h", "uid"),
                   "jobs.engines.flows.zeek_json:ZeekJsonParser"),
    FlowFormatSpec("csv", "canonical CSV", ("csv",), "text", lambda head: b"," in head.first_line,
                   "jobs.engines.flows.canonical:CanonicalCsvParser"),
    FlowFormatSpec("jsonl", "canonical JSON lines", ("jsonl",), "json", _keys_all("ts_start", "src_ip", "dst_ip"),
                   "jobs.engines.flows.canonical:CanonicalJsonParser"),
)
FLOW_FORMATS: Final[tuple[FlowFormat, ...]] = tuple(spec.name for spec in FORMATS)
_SPECS: Final[dict[str, FlowFormatSpec]] = {spec.name: spec for spec in FORMATS}
_ALIAS_OWNERS: Final = {alias: tuple(s.name for s in FORMATS if alias in s.aliases)
                        for spec in FORMATS for alias in spec.aliases}

# user-facing name → the parser's format; a name shared by several formats sniffs ("auto") among them
FORMAT_ALIASES: Final[dict[str, FormatChoice]] = {
    "auto": "auto", **{alias: owners[0] if len(owners) == 1 else "auto" for alias, owners in _ALIAS_OWNERS.items()},
}
FORMAT_NAMES: Final[tuple[str, ...]] = tuple(FORMAT_ALIASES)
# A name that sniffs must still find one of these formats.
ALLOWED_FOR_ALIAS: Final[dict[str, frozenset[str]]] = {
    alias: frozenset(owners) for alias, owners in _ALIAS_OWNERS.items() if len(owners) > 1
}


def format_spec(name: str) -> FlowFormatSpec:
    """The registry entry of the parser format `name`; ValueError for an unknown one."""
    if name not in _SPECS:
        raise ValueError(f"unknown flow format {name!r}; expected one of {FLOW_FORMATS} or 'auto'")
    return _SPECS[name]


def titles(family: Family | None = None) -> str:
    """The titles of the formats (of one family) as one phrase: "A, B or C"."""
    named = [spec.title for spec in FORMATS if family in (None, spec.family)]
    return " or ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)


def parser_format(requested: str) -> FormatChoice:
    """The parser's format for a user-facing name; raises ValueError for an unknown one."""
    if requested not in FORMAT_ALIASES:
        raise ValueError(f"unknown format {requested!r}: choose one of {', '.join(FORMAT_NAMES)}")
    return FORMAT_ALIASES[requested]
