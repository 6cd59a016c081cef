"""Cilium Hubble flows: JSON lines of `hubble observe -o json` (GetFlowsResponse) or bare Flows.

Decisions:
- Hubble reports events, not byte counts: every flow is 0 bytes and 1 packet.
- verdict DROPPED/DENIED → "reject"; any other verdict (FORWARDED, REDIRECTED, AUDIT, …) →
  "accept".
- Reply flows (`is_reply`, or the deprecated `reply`, true) are skipped with reason
  "reply direction": the request direction already gives the edge, and counting replies would
  add a reversed edge per connection. A flow with neither field counts as a request.
- Flows without IP addresses or without an L4 protocol are skipped; a JSON object that is not a
  Hubble flow at all is a bad line.
- ICMP type/code go to src_port/dst_port, as Zeek does. Names: see `hubble_identity`.
"""

from __future__ import annotations

from typing import Final

import polars as pl
import pyarrow as pa

from jobs.flows.columns import Check, Conversion, reason, select_checked
from jobs.flows.finalize import finalize
from jobs.flows.hubble_identity import endpoint_identity
from jobs.flows.jsonlines import read_json_lines
from jobs.flows.result import ChunkResult
from jobs.flows.timestamps import with_timestamps

_PORTS = pa.struct([("source_port", pa.int64()), ("destination_port", pa.int64())])
_ICMP = pa.struct([("type", pa.int64()), ("code", pa.int64())])
_ENDPOINT = pa.struct([
    ("namespace", pa.string()), ("pod_name", pa.string()), ("labels", pa.list_(pa.string())),
    ("workloads", pa.list_(pa.struct([("name", pa.string())]))),
])
L4_PROTOCOLS: Final = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp", "ICMPv4": "icmp", "ICMPv6": "icmp6"}
_FLOW_FIELDS: Final = [
    ("time", pa.string()), ("verdict", pa.string()),
    ("IP", pa.struct([("source", pa.string()), ("destination", pa.string())])),
    ("l4", pa.struct([(key, _ICMP if key.startswith("ICMP") else _PORTS) for key in L4_PROTOCOLS])),
    ("source", _ENDPOINT), ("destination", _ENDPOINT), ("is_reply", pa.bool_()), ("reply", pa.bool_()),
]
# GetFlowsResponse wraps the flow in "flow"; older CLIs printed the Flow itself.
SCHEMA: Final = pa.schema([("flow", pa.struct(_FLOW_FIELDS)), *_FLOW_FIELDS])
REJECT_VERDICTS: Final = ("DROPPED", "DENIED")


class HubbleParser:
    """Parses chunks of Hubble JSON lines (stateless between chunks)."""

    def parse_chunk(self, chunk: bytes, first_line: int) -> ChunkResult:
        """Parse whole lines; returns canonical rows, bad lines and counts."""
        rows, unreadable = read_json_lines(chunk, SCHEMA, first_line)
        flows = rows.select(
            *(pl.coalesce(pl.col("flow").struct.field(name), pl.col(name)).alias(name)
              for name, _ in _FLOW_FIELDS),
            pl.col("_line"), pl.col("flow").is_not_null().alias("_wrapped"),
        )
        flows = with_timestamps(flows, {"time": "_ts"}, epoch=False)
        frame = _with_identities(select_checked(flows, _conversion()), flows)
        return finalize(frame, unreadable)


def _endpoint_key(side: str) -> pl.Expr:
    endpoint = pl.col(side)
    return pl.struct(
        namespace=endpoint.struct.field("namespace"),
        pod_name=endpoint.struct.field("pod_name"),
        workload=endpoint.struct.field("workloads").list.first().struct.field("name"),
        labels=endpoint.struct.field("labels"),
    )


def _with_identities(frame: pl.DataFrame, flows: pl.DataFrame) -> pl.DataFrame:
    """Attach name/namespace/labels, computed in Python once per distinct endpoint.

    Endpoints are matched by a 64-bit hash of their fields (a join on the nested structs costs
    more than the whole conversion); a collision needs ~2^32 distinct endpoints in one batch.
    """
    keys = flows.lazy().select(
        _endpoint_key("source").alias("src"), _endpoint_key("destination").alias("dst"),
    ).with_columns(src_hash=pl.col("src").hash(), dst_hash=pl.col("dst").hash()).collect()
    distinct = pl.concat([
        keys.select(key="src", hash="src_hash"), keys.select(key="dst", hash="dst_hash"),
    ]).unique(subset="hash")
    identities = [endpoint_identity(**key) for key in distinct["key"].to_list()]
    position = {digest: i for i, digest in enumerate(distinct["hash"].to_list())}
    parts = {
        part: pl.Series([getattr(identity, part) for identity in identities], dtype=pl.Utf8)
        for part in ("name", "namespace", "labels")
    }
    columns = []
    for side in ("src", "dst"):
        index = pl.col(f"{side}_hash").replace_strict(position, return_dtype=pl.UInt32)
        columns += [pl.lit(values).gather(index).alias(f"{side}_{part}") for part, values in parts.items()]
    return pl.concat([frame, keys.select(columns)], how="horizontal")


def _conversion() -> Conversion:
    l4 = pl.col("l4")
    present = [(l4.struct.field(key), name) for key, name in L4_PROTOCOLS.items()]
    protocol = pl.coalesce(*(pl.when(field.is_not_null()).then(pl.lit(name)) for field, name in present))
    src_port = pl.coalesce(*(_l4_number(field, key, "source_port", "type") for key, (field, _) in
                             zip(L4_PROTOCOLS, present, strict=True)))
    dst_port = pl.coalesce(*(_l4_number(field, key, "destination_port", "code") for key, (field, _) in
                             zip(L4_PROTOCOLS, present, strict=True)))
    ts = pl.col("_ts")
    is_flow = pl.col("_wrapped") | pl.col("verdict").is_not_null() | pl.col("IP").is_not_null()
    checks: list[Check] = [
        (~is_flow, reason("not a Hubble flow (no 'flow' object)")),
        (ts.is_null(), reason("invalid time", pl.col("time"))),
        (~src_port.is_between(0, 65535) | ~dst_port.is_between(0, 65535), reason("invalid L4 port")),
    ]
    skip = (
        pl.when(pl.coalesce("is_reply", "reply").fill_null(False)).then(pl.lit("reply direction"))
        .when(pl.col("IP").struct.field("source").is_null() | pl.col("IP").struct.field("destination").is_null())
        .then(pl.lit("flow without IP addresses"))
        .when(protocol.is_null()).then(pl.lit("flow without L4 protocol"))
    )
    return Conversion(checks=checks, skip=skip, columns=[
        ts.alias("ts_start"),
        pl.col("IP").struct.field("source").alias("src_ip"),
        pl.when(src_port.is_between(0, 65535)).then(src_port).cast(pl.Int32, strict=False).alias("src_port"),
        pl.col("IP").struct.field("destination").alias("dst_ip"),
        pl.when(dst_port.is_between(0, 65535)).then(dst_port).cast(pl.Int32, strict=False).alias("dst_port"),
        protocol.alias("protocol"),
        pl.lit(0, pl.Int64).alias("bytes"),
        pl.lit(1, pl.Int64).alias("packets"),
        pl.when(pl.col("verdict").is_in(REJECT_VERDICTS)).then(pl.lit("reject"))
        .otherwise(pl.lit("accept")).alias("action"),
    ])


def _l4_number(field: pl.Expr, key: str, port_name: str, icmp_name: str) -> pl.Expr:
    return field.struct.field(icmp_name if key.startswith("ICMP") else port_name)
