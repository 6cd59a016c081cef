"""Plain-English explanations built from an event's top reasons and their evidence."""

from __future__ import annotations

from collections.abc import Sequence

from jobs.engines.drift.records import EventKind, Reason
from jobs.engines.drift.units import port_text

MAX_REASONS = 4
_HEADLINES: dict[EventKind, str] = {
    "new_edge": "New edge",
    "new_port": "New port",
    "new_external": "New external peer",
    "new_node": "New node",
    "removed_edge": "Edge disappeared",
    "traffic_spike": "Traffic spike",
}


def describe_subject(kind: EventKind, src: str, dst: str, dst_port: int | None, protocol: str) -> str:
    """"api → postgres:5432/tcp", or just the node for node events."""
    if kind == "new_node":
        return src
    return f"{src} → {dst}:{port_text(dst_port, protocol)}"


def explain(
    kind: EventKind,
    src: str,
    dst: str,
    dst_port: int | None,
    protocol: str,
    reasons: Sequence[Reason],
    *,
    owner: str | None = None,
) -> str:
    """One sentence: headline, subject, then the evidence of the strongest reasons.

    e.g. "New edge api → postgres:5432/tcp: never seen in the last 24 windows; 3.1 MB in this window;
    postgres is labelled tier=db."

    `owner` ("203.0.113.9 is AS14061 DigitalOcean (NL)") closes the sentence unless a shown reason names the
    ASN already.
    """
    subject = describe_subject(kind, src, dst, dst_port, protocol)
    # the kind reason only repeats the headline; what is new is said first, then the strongest rest
    shown = [r for r in reasons if r.feature != "kind" and r.evidence][:MAX_REASONS]
    shown.sort(key=lambda r: r.feature != "novelty")
    evidence = [r.evidence for r in shown]
    if owner and not any(r.feature == "new_asn" for r in shown):
        evidence.append(owner)
    if not evidence:
        return f"{_HEADLINES[kind]} {subject}."
    return f"{_HEADLINES[kind]} {subject}: " + "; ".join(evidence) + "."
