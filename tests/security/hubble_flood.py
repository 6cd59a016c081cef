"""Hubble files made for the hash-flooding test and benchmark: an ordinary one, and one whose endpoint objects
all collide in the scanner's endpoint table when its hash key is known: before issue 16 the "key" was four
fixed constants (OLD_KEY), now it is random per process.

The hash takes 16 bytes (a, b) per step: h = mix(a ^ k1, b ^ h), where mix is the folded 128-bit product.
When b equals the state h, the product is 0 whatever a is, and the state stays 0 up to a fixed tail: so the
key `P + a_i + h(P) + '"}'` hashes to one value for every 8-byte a_i. The search below finds a prefix P whose
state is 8 bytes that may stand inside a JSON string. Under any other key the same file is just 40k distinct
endpoints.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

MASK = (1 << 64) - 1
# (k0, k1, k2, k3): the constants the scanner's hash used before issue 16.
OLD_KEY = (0x243F6A8885A308D3, 0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3)
# Characters that stand in a JSON string unescaped (no quote, no backslash).
PLAIN = "".join(c for c in string.printable if c.isprintable() and c not in '"\\')
PLAIN_BYTES = frozenset(PLAIN.encode())
HEAD = b'{"pod_name":"'  # 13 bytes: with 3 searched bytes, the first 16-byte step
TAIL = b'"}'
KEY_BYTES = 16 + 16 + len(TAIL)


def _mix(a: int, b: int) -> int:
    product = a * b
    return (product & MASK) ^ (product >> 64)


def _step(k1: int, h: int, block: bytes) -> int:
    return _mix(int.from_bytes(block[:8], "little") ^ k1, int.from_bytes(block[8:16], "little") ^ h)


def key_bytes(key: tuple[int, int, int, int]) -> bytes:
    """The 32 bytes `_hubble_scan.set_hash_key` takes for these four words."""
    return b"".join(word.to_bytes(8, "little") for word in key)


def endpoint_hash(text: bytes, key: tuple[int, int, int, int] = OLD_KEY) -> int:
    """The scanner's endpoint hash (`hash_bytes` in _hubble_scan.c) under `key`, to check the crafted texts."""
    k0, k1, k2, k3 = key
    h, n, p = k0 ^ len(text), len(text), 0
    while n - p >= 16:
        h = _step(k1, h, text[p:p + 16])
        p += 16
    rest = text[p:]
    a = int.from_bytes(rest[:8], "little")
    b = int.from_bytes(rest[8:], "little") if len(rest) > 8 else 0
    return _mix(a ^ k2, b ^ h ^ k3)


def _zeroing_prefix(rng: random.Random) -> tuple[bytes, bytes]:
    """(first 16 bytes, the 8 bytes that zero the state after them under OLD_KEY), both plain string text."""
    k0, k1, _, _ = OLD_KEY
    while True:
        first = HEAD + "".join(rng.choices(PLAIN, k=3)).encode()
        state = _step(k1, k0 ^ KEY_BYTES, first).to_bytes(8, "little")
        if PLAIN_BYTES.issuperset(state):
            return first, state


def _endpoints(count: int, rng: random.Random, crafted: bool) -> list[str]:
    """`count` distinct endpoint object texts of KEY_BYTES bytes; `crafted`: all with the zeroing prefix."""
    first, zeroing = _zeroing_prefix(rng)
    texts: dict[bytes, None] = {}
    while len(texts) < count:
        if not crafted:
            first = HEAD + "".join(rng.choices(PLAIN, k=3)).encode()
            zeroing = "".join(rng.choices(PLAIN, k=8)).encode()
        texts[first + "".join(rng.choices(PLAIN, k=8)).encode() + zeroing + TAIL] = None
    return [text.decode() for text in texts]


LINE = (
    '{{"flow":{{"time":"2024-05-01T10:{minute:02d}:00.000000000Z","verdict":"FORWARDED",'
    '"IP":{{"source":"10.1.{a}.{b}","destination":"10.4.5.6"}},'
    '"l4":{{"TCP":{{"source_port":{port},"destination_port":8080}}}},'
    '"source":{source},"destination":{{"namespace":"shop","pod_name":"db-0","labels":["k8s:app=db"]}},'
    '"is_reply":false}}}}\n'  # a request: a flow no signal orients is skipped (issue 19)
)


def flood_file(lines: int, *, crafted: bool, seed: int = 16) -> bytes:
    """`lines` Hubble flows, each from its own source endpoint; `crafted`: endpoints that collide under OLD_KEY."""
    rng = random.Random(seed)
    sources = _endpoints(lines, rng, crafted)
    return "".join(
        LINE.format(minute=i % 60, a=i // 256 % 256, b=i % 256, port=1024 + i % 60000, source=source)
        for i, source in enumerate(sources)
    ).encode()


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The shortest of `runs` timings of `work` (the least disturbed by other load on the machine)."""
    import time

    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best
