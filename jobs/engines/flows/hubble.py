"""Cilium Hubble flows: JSON lines of `hubble observe -o json` (GetFlowsResponse) or bare Flows.

Decisions:
- Hubble reports events, not byte counts: every flow is 0 bytes and 1 packet.
- verdict DROPPED/DENIED → "reject"; any other verdict (FORWARDED, REDIRECTED, AUDIT, …) →
  "accept".
- Reply flows are skipped with reason "reply direction": the request direction already gives the
  edge, and counting replies would add a reversed edge per connection. A flow whose direction no
  signal decides is skipped as "direction unknown" (`hubble_direction` lists the signals).
- Flows without IP addresses or without an L4 protocol are skipped; a JSON object that is not a
  Hubble flow at all is a bad line.
- ICMP type/code go to src_port/dst_port, as Zeek does. Names and clusters: see `hubble_identity`; a
  named endpoint without a cluster label takes its peer's (`_peer_clusters`).
- answered: false for a DROPPED/DENIED/ERROR event, else null (unknown). The scanner reads the TCP
  flags for direction only; answered does not use them yet. Pairing events with the replies of their
  5-tuple (`detect.answered.hubble_answered`) would be per batch (a connection split across two
  batches would look unanswered) and, without flags, calls 57 of the 268 requests of
  basic-sample-400-tcp-flows.json unanswered: ACKs whose replies fell outside the capture.
  Hubble has no byte counts: orig_bytes is null.
- Lines are read by the native scanner (`hubble_scan`): it validates each line as JSON and
  returns only the fields below, each from the "flow" object when that has it, else from the top
  level (older CLIs printed the Flow itself). Wrong types are bad lines. When several L4
  protocols are present, the first of L4_PROTOCOLS names the protocol and the first number
  found in that order gives each port.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from jobs.engines.detect.answered import HUBBLE_REFUSED
from jobs.engines.flows.columns import Check, Conversion, reason, select_checked
from jobs.engines.flows.finalize import finalize
from jobs.engines.flows.hubble_direction import DIRECTION, REPLY_SKIP, declared_reply, with_direction_skips
from jobs.engines.flows.hubble_identity import endpoint_identity
from jobs.engines.flows.hubble_scan import Endpoint, scan_chunk
from jobs.engines.flows.result import ChunkResult
from jobs.engines.flows.timestamps import with_timestamps

L4_PROTOCOLS: Final = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp", "ICMPv4": "icmp", "ICMPv6": "icmp6"}
REJECT_VERDICTS: Final = ("DROPPED", "DENIED")


class HubbleParser:
    """Parses chunks of Hubble JSON lines (stateless between chunks)."""

    def parse_chunk(self, chunk: bytes, first_line: int) -> ChunkResult:
        """Parse whole lines; returns canonical rows, bad lines and counts."""
        scanned = scan_chunk(chunk, first_line)
        flows = with_timestamps(scanned.rows, {"time": "_ts"}, epoch=False)
        frame = with_direction_skips(select_checked(flows, _conversion()))
        return finalize(_with_identities(frame, flows, scanned.endpoints), scanned.bad)


def _with_identities(frame: pl.DataFrame, flows: pl.DataFrame, endpoints: list[Endpoint]) -> pl.DataFrame:
    """Attach name/namespace/labels/cluster, computed in Python once per distinct endpoint.

    The scanner already numbered the distinct endpoints; rows only hold those numbers.
    """
    identities = [endpoint_identity(*endpoint) for endpoint in endpoints]
    columns = []
    for part in ("name", "namespace", "labels", "cluster"):
        values = pl.Series([getattr(identity, part) for identity in identities], dtype=pl.Utf8)
        columns += [values.gather(flows[f"{side}_endpoint"]).alias(f"{side}_{part}") for side in ("src", "dst")]
    return frame.with_columns(columns).with_columns(_peer_clusters())


def _peer_clusters() -> list[pl.Expr]:
    """A named endpoint without a cluster label is in its peer's cluster; unnamed endpoints have none.

    Hubble sends a pod's labels only where the observing node knows the pod (`hubble_identity`), so a
    pod seen by name alone would otherwise become a second, cluster-less workload. The flow was observed
    inside one cluster, so the peer's cluster is the pod's (wrong only for a label-less pod talking
    across a cluster mesh).
    """
    own = {side: pl.col(f"{side}_cluster") for side in ("src", "dst")}
    return [
        pl.when(pl.col(f"{side}_namespace").is_not_null()).then(pl.coalesce(own[side], own[other]))
        .alias(f"{side}_cluster")
        for side, other in (("src", "dst"), ("dst", "src"))
    ]


def _l4_number(key: str, position: int) -> pl.Expr:
    """The protocol's first (source port, ICMP type) or second (destination port, code) number."""
    names = ("type", "code") if key.startswith("ICMP") else ("source_port", "destination_port")
    return pl.col(f"{key}.{names[position]}")


def _conversion() -> Conversion:
    protocol = pl.coalesce(*(pl.when(pl.col(key)).then(pl.lit(name)) for key, name in L4_PROTOCOLS.items()))
    src_port = pl.coalesce(*(_l4_number(key, 0) for key in L4_PROTOCOLS))
    dst_port = pl.coalesce(*(_l4_number(key, 1) for key in L4_PROTOCOLS))
    ts = pl.col("_ts")
    src_ip, dst_ip = pl.col("IP.source"), pl.col("IP.destination")
    is_flow = pl.col("_wrapped") | pl.col("verdict").is_not_null() | pl.col("IP")
    checks: list[Check] = [
        (~is_flow, reason("not a Hubble flow (no 'flow' object)")),
        (ts.is_null(), reason("invalid time", pl.col("time"))),
        (~src_port.is_between(0, 65535) | ~dst_port.is_between(0, 65535), reason("invalid L4 port")),
    ]
    icmp_types = {"icmp": pl.col("ICMPv4.type"), "icmp6": pl.col("ICMPv6.type")}
    direction = declared_reply(pl.col("TCP.flags"), pl.col("is_reply"), pl.col("reply"), icmp_types)
    skip = (
        pl.when(direction).then(pl.lit(REPLY_SKIP))
        .when(src_ip.is_null() | dst_ip.is_null()).then(pl.lit("flow without IP addresses"))
        .when(protocol.is_null()).then(pl.lit("flow without L4 protocol"))
    )
    return Conversion(checks=checks, skip=skip, columns=[
        ts.alias("ts_start"),
        src_ip.alias("src_ip"),
        pl.when(src_port.is_between(0, 65535)).then(src_port).cast(pl.Int32, strict=False).alias("src_port"),
        dst_ip.alias("dst_ip"),
        pl.when(dst_port.is_between(0, 65535)).then(dst_port).cast(pl.Int32, strict=False).alias("dst_port"),
        protocol.alias("protocol"),
        pl.lit(0, pl.Int64).alias("bytes"),
        pl.lit(1, pl.Int64).alias("packets"),
        pl.when(pl.col("verdict").is_in(REJECT_VERDICTS)).then(pl.lit("reject"))
        .otherwise(pl.lit("accept")).alias("action"),
        pl.when(pl.col("verdict").is_in(HUBBLE_REFUSED)).then(pl.lit(False)).alias("answered"),
        direction.alias(DIRECTION),
    ])
