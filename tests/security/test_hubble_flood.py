"""Hash flooding of the Hubble scanner's endpoint table (issue 16, finding 3): endpoint objects crafted to collide
must cost what ordinary ones cost, and should the hash key leak, a table that degrades is refused, not ground
through."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator

import pytest

from jobs.engines.flows import _hubble_scan
from jobs.engines.flows.exceptions import FlowFileRejected
from jobs.engines.flows.hubble import HubbleParser
from tests.security.hubble_flood import KEY_BYTES, OLD_KEY, best_of, endpoint_hash, flood_file, key_bytes

LINES = 40_000


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return {"crafted": flood_file(LINES, crafted=True), "ordinary": flood_file(LINES, crafted=False)}


@pytest.fixture
def leaked_key() -> Iterator[None]:
    """The scanner keyed with OLD_KEY (the constants of before issue 16), as if an attacker knew its key."""
    _hubble_scan.set_hash_key(key_bytes(OLD_KEY))
    try:
        yield
    finally:
        _hubble_scan.set_hash_key(os.urandom(32))


def _sources(data: bytes) -> list[bytes]:
    return [line.split(b'}},"source":', 1)[1].split(b',"destination"', 1)[0] for line in data.splitlines()]


def test_the_crafted_endpoints_collide_under_the_old_key_and_not_under_another() -> None:
    crafted, ordinary = _sources(flood_file(200, crafted=True)), _sources(flood_file(200, crafted=False))
    assert all(len(text) == KEY_BYTES for text in crafted + ordinary)
    assert len(set(crafted)) == 200 and len({endpoint_hash(text) for text in crafted}) == 1
    assert len({endpoint_hash(text) for text in ordinary}) == 200
    other = tuple(random.getrandbits(64) for _ in range(4))
    assert len({endpoint_hash(text, other) for text in crafted}) == 200  # type: ignore[arg-type]


def test_crafted_endpoints_parse_within_twice_the_time_of_ordinary_ones(files: dict[str, bytes]) -> None:
    assert len(files["crafted"]) == len(files["ordinary"]) > 8_000_000
    results = {}

    def parse(name: str) -> None:
        results[name] = HubbleParser().parse_chunk(files[name], 1)

    # Best of 3 each, alternating, so a busy moment of the shared machine does not decide the outcome.
    ordinary_time = crafted_time = float("inf")
    for _ in range(3):
        ordinary_time = min(ordinary_time, best_of(1, lambda: parse("ordinary")))
        crafted_time = min(crafted_time, best_of(1, lambda: parse("crafted")))
    assert results["crafted"].records == results["ordinary"].records == LINES
    assert crafted_time < 2 * ordinary_time, f"crafted {crafted_time:.3f} s, ordinary {ordinary_time:.3f} s"


def test_every_crafted_endpoint_keeps_its_own_identity() -> None:
    data = flood_file(2_000, crafted=True, seed=random.randrange(1 << 30))
    frame = HubbleParser().parse_chunk(data, 1).frame
    assert frame.height == 2_000 and frame["src_name"].n_unique() == 2_000


def test_with_a_leaked_key_the_crafted_file_is_refused_at_once(files: dict[str, bytes], leaked_key: None) -> None:
    started = time.perf_counter()
    with pytest.raises(FlowFileRejected, match=r"collide in the scanner's hash table.*hash-flooding"):
        HubbleParser().parse_chunk(files["crafted"], 1)
    refused = time.perf_counter() - started
    ordinary_time = best_of(3, lambda: HubbleParser().parse_chunk(files["ordinary"], 1))
    assert refused < 2 * ordinary_time, f"refused after {refused:.3f} s, ordinary parse {ordinary_time:.3f} s"


def test_the_probe_bound_never_refuses_ordinary_endpoints(files: dict[str, bytes], leaked_key: None) -> None:
    parsed = HubbleParser().parse_chunk(files["ordinary"], 1)
    assert parsed.records == LINES and parsed.frame["src_name"].n_unique() == LINES
