"""The names of the flow formats, as types (the registry in `jobs.engines.flows.formats` describes each one).

Its own module so that the parse results can name a format without importing the registry, which imports them.
"""

from __future__ import annotations

from typing import Literal

FlowFormat = Literal["zeek_tsv", "vpc", "hubble", "zeek_json", "csv", "jsonl"]
FormatChoice = FlowFormat | Literal["auto"]
