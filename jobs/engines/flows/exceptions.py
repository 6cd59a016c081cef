"""Errors raised by the flow parsers.

    FlowError
     └── FlowFileRejected      the input is not a flow file we can read (carries `reason`)

A bad *line* inside a flow file is never an exception: it is counted and reported in
`ParseResult.errors`. Only a file that cannot be read as flows at all raises.
"""

from __future__ import annotations


class FlowError(Exception):
    """Base class of every flow-ingestion error."""


class FlowFileRejected(FlowError):
    """The whole input is not a readable flow file (binary, empty, unknown layout, …)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
