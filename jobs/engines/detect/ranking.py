"""The order an analyst reads incidents in, and how their verdicts move it for incidents still to come.

    rank_incidents(incidents, feedback) -> [Ranked(incident, score, rank, note)]

`score` starts at the incident's peak risk. A verdict (true or false positive on an incident) moves the score
of incidents first seen after it: fully for the same entity and shape (the same campaign or beacon coming
back), a third as much for the same shape elsewhere (the same kind, direction and service with the same
counterpart: a beacon to another address of the same vendor /24, brute force on the same service of another
home network). A pure function: verdicts in, adjusted ranks out; risk and severity stay the evidence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from jobs.engines.detect.incidents import Incident
from jobs.engines.detect.records import MANY, SEVERITY_ORDER

VerdictKind = Literal["true_positive", "false_positive"]
# one false positive on the same entity halves its next score; on the same shape elsewhere, a third of that
EXACT_WEIGHT: Final = math.log(2.0)
SHAPE_WEIGHT: Final = EXACT_WEIGHT / 3
# however many verdicts agree, a score moves at most by a factor 10 (the evidence still counts)
MAX_FACTOR: Final = 10.0


@dataclass(frozen=True, slots=True)
class Feedback:
    """An analyst's verdict on one incident, at a time (epoch seconds)."""

    incident_id: str
    key: str
    shape: str
    verdict: VerdictKind
    at: float

    @classmethod
    def on(cls, incident: Incident, verdict: VerdictKind, at: float) -> Feedback:
        """The verdict `verdict` given on `incident` at `at`."""
        return cls(incident.id, incident.key, shape_of(incident), verdict, at)


@dataclass(frozen=True, slots=True)
class Ranked:
    """An incident in reading order: its score (peak risk moved by verdicts), rank (1 = read first), why."""

    incident: Incident
    score: float
    rank: int
    note: str = ""


def counterpart(incident: Incident) -> str:
    """The other side of an incident as a shape sees it: the outside end's /24 for a pair, the home network for
    inbound campaigns, nothing for a home host's own campaigns (the same behaviour from any home host)."""
    i = incident
    if i.kind in ("scan", "brute_force"):
        return i.entity if i.direction == "inbound" else ""
    actor, _, target = i.entity.partition(" → ")
    outside = actor if i.direction == "inbound" else target
    return _slash24(outside) if i.direction != "internal" else outside


def _slash24(address: str) -> str:
    parts = address.split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return ".".join(parts[:3]) + ".0/24"
    return address if ":" not in address or address == MANY else ":".join(address.split(":")[:4]) + "::/64"


def shape_of(incident: Incident) -> str:
    """kind|direction|service|counterpart: what "an incident like this one" means for feedback."""
    return "|".join((incident.kind, incident.direction, incident.service, counterpart(incident)))


def rank_incidents(incidents: Iterable[Incident], feedback: Sequence[Feedback] = ()) -> list[Ranked]:
    """Incidents in reading order: score descending, then severity, then the most recent first."""
    scored = [_score(incident, feedback) for incident in incidents]
    scored.sort(key=lambda item: (-item[1], -SEVERITY_ORDER[item[0].severity], -item[0].last_seen, item[0].key))
    return [Ranked(incident, score, rank, note) for rank, (incident, score, note) in enumerate(scored, start=1)]


def _score(incident: Incident, feedback: Sequence[Feedback]) -> tuple[Incident, float, str]:
    shape = shape_of(incident)
    exact = [f for f in feedback if f.key == incident.key and f.at < incident.first_seen]
    alike = [f for f in feedback if f.key != incident.key and f.shape == shape and f.at < incident.first_seen]
    net_exact = sum(1 if f.verdict == "true_positive" else -1 for f in exact)
    net_alike = sum(1 if f.verdict == "true_positive" else -1 for f in alike)
    exponent = EXACT_WEIGHT * net_exact + SHAPE_WEIGHT * net_alike
    factor = min(MAX_FACTOR, max(1 / MAX_FACTOR, math.exp(exponent)))
    score = round(min(100.0, incident.peak_risk * factor), 1)
    return incident, score, _note(exact, alike)


def _note(exact: Sequence[Feedback], alike: Sequence[Feedback]) -> str:
    parts = []
    for group, what in ((exact, "the same"), (alike, "similar")):
        fp = sum(f.verdict == "false_positive" for f in group)
        tp = len(group) - fp
        parts += [f"{fp} {what} marked false positive"] if fp else []
        parts += [f"{tp} {what} confirmed"] if tp else []
    return "analysts: " + ", ".join(parts) if parts else ""
