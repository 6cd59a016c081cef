"""The Graph page's address: `/graph?snapshot=12&compare=baseline&country=US&direction=inbound`.

The URL carries the open snapshot, the diff base and the filters that are set, so a link opens the same
view for a colleague of the same tenant (the tenant comes from the session, never the URL).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlencode

import reflex as rx
from reflex_base.event import EventSpec

FILTER_NAMES = ("namespace", "port", "protocol", "kind", "external_only", "min_bytes", "text", "country", "asn",
                "direction", "cluster")
MAX_VALUE = 100


def filters_from(params: Mapping[str, str]) -> dict[str, str]:
    """The filters a URL asks for (unknown names ignored, values cut to MAX_VALUE); checked when drawn."""
    return {name: str(params.get(name, "")).strip()[:MAX_VALUE] for name in FILTER_NAMES}


def share_query(snapshot_id: str, compare_id: str, filters: Mapping[str, str], everything: bool) -> str:
    """`?…` for the view: the snapshot, and only what differs from the defaults."""
    params = {"snapshot": snapshot_id} if snapshot_id else {}
    params |= {"compare": compare_id} if compare_id else {}
    params |= {k: v for k, v in filters.items() if k in FILTER_NAMES and v not in ("", "false")}
    params |= {"diff": "all"} if everything and compare_id else {}
    return "?" + urlencode(params) if params else ""


def replace_url(query: str) -> EventSpec:
    """The address bar follows the view, without a navigation (nothing reloads)."""
    return rx.call_script(f"window.history.replaceState(null, '', '/graph' + {json.dumps(query)})")
