"""AWS VPC / Transit Gateway flow log field layouts, and how to recognise a header or a layout.

Default layouts are the AWS field lists in AWS's own order for each version. A file without a
header is matched to a layout by its field count only when the count names exactly one layout
and the values of its first records fit that layout; anything else must come with a header or
an explicit field list.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Final

V2: Final = (
    "version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "action", "log-status",
)
V3: Final = (*V2, "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr")
V4: Final = (*V3, "region", "az-id", "sublocation-type", "sublocation-id")
V5: Final = (*V4, "pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path")
V7: Final = (
    *V5, "ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn",
    "ecs-container-instance-id", "ecs-container-id", "ecs-second-container-id", "ecs-service-name",
    "ecs-task-definition-arn", "ecs-task-arn", "ecs-task-id",
)
V8: Final = (*V7, "reject-reason")
TRANSIT_GATEWAY: Final = (
    "version", "resource-type", "account-id", "tgw-id", "tgw-attachment-id",
    "tgw-src-vpc-account-id", "tgw-dst-vpc-account-id", "tgw-src-vpc-id", "tgw-dst-vpc-id",
    "tgw-src-subnet-id", "tgw-dst-subnet-id", "tgw-src-eni", "tgw-dst-eni", "tgw-src-az-id",
    "tgw-dst-az-id", "tgw-pair-attachment-id", "srcaddr", "dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "log-status", "type",
    "packets-lost-no-route", "packets-lost-blackhole", "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired", "tcp-flags", "region", "flow-direction", "pkt-src-aws-service",
    "pkt-dst-aws-service",
)
DEFAULT_LAYOUTS: Final[dict[int, tuple[str, ...]]] = {
    len(layout): layout for layout in (V2, V3, V4, V5, V7, V8, TRANSIT_GATEWAY)
}
KNOWN_FIELDS: Final = frozenset(V8) | frozenset(TRANSIT_GATEWAY)
REQUIRED_FIELDS: Final = ("srcaddr", "dstaddr", "protocol", "start")

_FIELD_NAME = re.compile(r"[a-z][a-z0-9-]*")
_IP_OR_DASH = re.compile(r"-|[0-9a-fA-F.:]+")
_INT_OR_DASH = re.compile(r"-|\d+")
_VALUE_CHECKS: Final[dict[str, Callable[[str], bool]]] = {
    "version": lambda v: v.isdigit(),
    "srcaddr": lambda v: _IP_OR_DASH.fullmatch(v) is not None,
    "dstaddr": lambda v: _IP_OR_DASH.fullmatch(v) is not None,
    "srcport": lambda v: _INT_OR_DASH.fullmatch(v) is not None,
    "dstport": lambda v: _INT_OR_DASH.fullmatch(v) is not None,
    "protocol": lambda v: _INT_OR_DASH.fullmatch(v) is not None,
    "start": lambda v: v.isdigit(),
    "end": lambda v: v.isdigit(),
    "action": lambda v: v in ("ACCEPT", "REJECT", "-"),
    "log-status": lambda v: v in ("OK", "NODATA", "SKIPDATA", "-"),
}


def is_header(tokens: Sequence[str]) -> bool:
    """A header names only fields, and at least one field we know."""
    return (
        bool(tokens)
        and all(_FIELD_NAME.fullmatch(token) for token in tokens)
        and any(token in KNOWN_FIELDS for token in tokens)
    )


def check_fields(fields: Sequence[str]) -> str | None:
    """Why a field list cannot give flows (missing fields, repeats), or None when it can."""
    missing = [name for name in REQUIRED_FIELDS if name not in fields]
    if missing:
        return f"VPC flow log fields lack {', '.join(missing)}, so records cannot become flows"
    if len(set(fields)) != len(fields):
        return "VPC flow log fields name a field twice"
    return None


def guess_layout(records: Sequence[Sequence[str]]) -> tuple[str, ...] | str:
    """The default layout that most of the header-less sample `records` fit, or why none does.

    A stray bad line among the samples is tolerated; a wrong layout fits none of them.
    """
    counts = Counter(len(tokens) for tokens in records)
    count = counts.most_common(1)[0][0]
    layout = DEFAULT_LAYOUTS.get(count)
    known = ", ".join(str(n) for n in sorted(DEFAULT_LAYOUTS))
    if layout is None:
        return (
            f"VPC flow log without a header has {count} fields, which matches no default AWS "
            f"layout ({known}); pass the log format's field list"
        )
    misfits = [_misfits(layout, tokens) for tokens in records]
    if sum(1 for fields in misfits if not fields) * 2 <= len(records):
        worst = next(fields for fields in misfits if fields)
        return (
            f"VPC flow log without a header has {count} fields but its values do not fit the "
            f"default {count}-field layout ({', '.join(worst[:3])}); pass the log format's field list"
        )
    return layout


def _misfits(layout: tuple[str, ...], tokens: Sequence[str]) -> list[str]:
    if len(tokens) != len(layout):
        return ["field count"]
    return [
        name for name, value in zip(layout, tokens, strict=True)
        if name in _VALUE_CHECKS and not _VALUE_CHECKS[name](value)
    ]
