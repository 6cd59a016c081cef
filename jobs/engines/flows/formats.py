"""The flow formats a user may name (REST, the CLI, the Sources page) and the parser format each one means.

Standard library only: `sg ingest --help` reads it without loading a parser.
"""

from __future__ import annotations

# user-facing name → the parser's format ("auto" sniffs the first bytes)
FORMAT_ALIASES = {"auto": "auto", "zeek": "auto", "vpcflow": "vpc", "hubble": "hubble", "csv": "csv", "jsonl": "jsonl"}
# A name that sniffs must still find one of these formats.
ALLOWED_FOR_ALIAS = {"zeek": {"zeek_tsv", "zeek_json"}}


def parser_format(requested: str) -> str:
    """The parser's format for a user-facing name; raises ValueError for an unknown one."""
    if requested not in FORMAT_ALIASES:
        raise ValueError(f"unknown format {requested!r}: choose one of {', '.join(FORMAT_ALIASES)}")
    return FORMAT_ALIASES[requested]
