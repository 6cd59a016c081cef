"""The owner of an event's outside end (ASN, AS organisation, country), and whether its ASN is new for the host.

A host that reaches a new address in an autonomous system it already talks to (one more Google or Akamai front
end) has done something ordinary; a host that reaches an ASN it never reached before has met a new party. So
`new_external` events carry `asn_known_peers` (how many of the host's known outside counterparts are in the
peer's ASN) and scoring weighs a new ASN above a new address (`score._asn_novelty`).

The answers come from the tenant's enrichment store, looked up at ingest (`jobs.stores.enrichment`); the job
passes a lookup function, this module does no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

from jobs.engines.drift.known import KnownIndex
from jobs.engines.drift.nodes import NodeView
from jobs.engines.drift.records import Detection
from jobs.engines.enrich import Enrichment

# address → (asn, as_org, country) for the stored ones among the addresses asked for
EnrichLookup = Callable[[Collection[str]], Mapping[str, Enrichment]]


def outside_end(d: Detection, nodes: Mapping[str, NodeView]) -> tuple[str, str] | None:
    """(host, outside address) of an edge event with one external end; None for node events or two outsides."""
    if d.kind == "new_node":
        return None
    src, dst = nodes.get(d.src), nodes.get(d.dst)
    if dst is not None and dst.external and not (src is not None and src.external):
        return d.src, d.dst
    if src is not None and src.external and not (dst is not None and dst.external):
        return d.dst, d.src
    return None


def owner_text(asn: int | None, org: str | None, country: str | None) -> str:
    """ "AS14061 DigitalOcean (NL)"; parts that are unknown are left out."""
    name = " ".join(part for part in (f"AS{asn}" if asn else None, org) if part)
    if country:
        return f"{name} ({country})" if name else country
    return name


def with_owners(
    detections: Sequence[Detection], index: KnownIndex, nodes: Mapping[str, NodeView], lookup: EnrichLookup | None
) -> list[Detection]:
    """The detections, those with an outside end the store knows carrying `peer_asn`, `peer_org` and
    `peer_country` in their facts; `new_external` ones also `asn_known_peers`. One lookup for them all."""
    if lookup is None:
        return list(detections)
    ends = {i: end for i, d in enumerate(detections) if (end := outside_end(d, nodes)) is not None}
    if not ends:
        return list(detections)
    wanted = {address for _, address in ends.values()}
    for i, (host, _) in ends.items():
        if detections[i].kind == "new_external":
            wanted.update(index.outside_of.get(host, ()))
    found = lookup(wanted)
    annotated = list(detections)
    for i, (host, address) in ends.items():
        owner = found.get(address)
        if owner is None:
            continue
        facts = dict(detections[i].facts) | _owner_facts(host, owner)
        if detections[i].kind == "new_external" and owner[0]:
            known = [found.get(other) for other in index.outside_of.get(host, ())]
            facts["asn_known_peers"] = sum(1 for k in known if k is not None and k[0] == owner[0])
            facts["host_known_asns"] = len({k[0] for k in known if k is not None and k[0]})
        annotated[i] = replace(detections[i], facts=facts)
    return annotated


def _owner_facts(host: str, owner: Enrichment) -> dict[str, Any]:
    asn, org, country = owner
    return {"host": host, "peer_asn": asn, "peer_org": org, "peer_country": country}
