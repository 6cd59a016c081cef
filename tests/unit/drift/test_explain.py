"""Explanations name the evidence in plain words with human-readable sizes."""

from __future__ import annotations

import pytest

from jobs.engines.drift import analyze, build_baseline
from jobs.engines.drift.units import human_bytes
from jobs.engines.snapshot.types import EdgeRecord

from .builders import NOW, edge, node, snapshot

API, PG, WEB = "shop/api", "shop/postgres", "shop/web"
NODES = [node(API, app="api"), node(PG, app="postgres", tier="db"), node(WEB, app="web"),
         node("45.77.23.9", "external")]


def explained(*new_edges: EdgeRecord, windows: int = 24) -> list[str]:
    steady = [edge(WEB, API, 8080), edge(API, "shop/other", 80)]
    past = [snapshot(i, [*NODES[:3], node("shop/other")], steady) for i in range(windows)]
    current = snapshot(windows, [*NODES, node("shop/other")], [*steady, *new_edges])
    found = analyze(current, past[-1], build_baseline(past), criticality={"tier=db": 1.0}, now=NOW)
    return [e.explanation for e in found]


def test_new_edge_explanation_names_its_evidence() -> None:
    [text] = explained(edge(API, PG, 5432, nbytes=3_100_000))
    assert text.startswith("New edge shop/api → shop/postgres:5432/tcp: never seen in the last 24 windows;")
    assert "3.1 MB in this window" in text
    assert "postgres is labelled tier=db" in text
    assert "port 5432/tcp is postgresql" in text


def test_a_new_external_peer_is_named_outside_the_home_networks() -> None:
    [text] = explained(edge(API, "45.77.23.9", 443))
    assert text.startswith("New external peer shop/api → 45.77.23.9:443/tcp: never seen in the last 24 windows;")
    assert "45.77.23.9 is outside the home networks" in text


def test_short_baseline_is_stated() -> None:
    [text] = explained(edge(API, PG, 5432), windows=1)
    assert "never seen in the last 1 window;" in text


@pytest.mark.parametrize(("count", "text"), [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"),
                                             (3_100_000, "3.1 MB"), (4.2e9, "4.2 GB"), (7e15, "7.0 PB")])
def test_human_bytes(count: float, text: str) -> None:
    assert human_bytes(count) == text
