"""Sliding-window rate limits: in Redis across clients, per process when Redis is down; login, token auth, push."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest
from redis.asyncio import Redis

from jobs.auth import ratelimit
from jobs.runtime.connections import get_redis
from jobs.runtime.constants import ratelimit_key
from models.settings import get_settings
from tests.conftest import TEST_REDIS_URL
from tests.security.conftest import Seeded

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _redis_healthy() -> None:
    # A previous test may have left the module skipping Redis after pointing it at a dead one.
    ratelimit._redis_skip_until, ratelimit._redis_down = 0.0, False
    ratelimit._memory._logs.clear()


async def test_the_window_slides_instead_of_resetting(app_ctx: str) -> None:
    redis, limit = get_redis(), ratelimit.Limit("test", 3, 2)
    for _ in range(3):  # hits at about 0.0, 0.7 and 1.4 s
        assert await ratelimit.hit(redis, limit, "s") == 0
        await asyncio.sleep(0.7)
    # At 2.1 s only the first hit has left the window: one more is allowed, the next is not (a fixed
    # 2-second window would have reset at 2.0 s and allowed three).
    assert await ratelimit.hit(redis, limit, "s") == 0
    assert await ratelimit.hit(redis, limit, "s") == 1
    assert await ratelimit.wait_seconds(redis, limit, "s") == 1
    # Refused hits are not counted, and the log is a sorted set that expires with the window.
    assert await redis.zcard(ratelimit_key("test", "s")) == 3
    assert 0 < await redis.pttl(ratelimit_key("test", "s")) <= 2000


async def test_limits_are_shared_by_every_client_of_redis(app_ctx: str) -> None:
    limit = ratelimit.Limit("test", 4, 60)
    other = Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    try:
        results = await asyncio.gather(*[ratelimit.hit(client, limit, "shared")
                                         for client in [get_redis(), other] * 5])
    finally:
        await other.aclose()
    assert sorted(r == 0 for r in results) == [False] * 6 + [True] * 4


async def test_a_dead_redis_falls_back_to_per_process_limits_logged_once(
    app_ctx: str, caplog: pytest.LogCaptureFixture
) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True, socket_connect_timeout=0.5)
    limit = ratelimit.Limit("test", 2, 60)
    try:
        with caplog.at_level(logging.WARNING, logger="jobs.auth.ratelimit"):
            started = time.monotonic()
            outcomes = [await ratelimit.hit(dead, limit, "fallback") for _ in range(4)]
            elapsed = time.monotonic() - started
    finally:
        await dead.aclose()
    assert outcomes[:2] == [0, 0] and all(wait > 0 for wait in outcomes[2:])
    assert ratelimit.using_fallback()
    warnings = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1 and "per-process" in warnings[0]
    assert elapsed < 2, "after the first failure Redis is skipped for a while, not retried on every hit"


async def test_rest_token_guessing_gets_429_with_retry_after(
    app_ctx: str, api_client: httpx.AsyncClient, two_tenants: tuple[Seeded, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SG_TOKEN_AUTH_MAX_FAILURES", "3")
    get_settings.cache_clear()
    alpha, _ = two_tenants
    statuses = [(await api_client.get("/api/v1/jobs", headers={"Authorization": f"Bearer sg_guess{i}"})).status_code
                for i in range(3)]
    assert statuses == [401, 401, 401]
    refused = await api_client.get("/api/v1/jobs", headers={"Authorization": "Bearer sg_guess4"})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["code"] == "rate_limited"
    # Only failures are throttled: a good token from the same address still gets in (issue 16, finding 4).
    assert (await api_client.get("/api/v1/jobs",
                                 headers={"Authorization": f"Bearer {alpha.tokens['viewer']}"})).status_code == 200


async def test_requests_per_token_and_flow_pushes_are_limited(
    app_ctx: str, api_client: httpx.AsyncClient, two_tenants: tuple[Seeded, Seeded], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SG_FLOW_PUSHES_PER_MINUTE", "2")
    monkeypatch.setenv("SG_API_REQUESTS_PER_MINUTE", "6")
    get_settings.cache_clear()
    alpha, bravo = two_tenants
    push = {"Authorization": f"Bearer {alpha.tokens['analyst']}"}
    body = b"ts_start,ts_end,src_ip,dst_ip,dst_port,protocol,bytes\n"
    statuses = [(await api_client.post("/api/v1/flows?format=csv", content=body, headers=push)).status_code
                for _ in range(3)]
    assert statuses[:2] == [202, 202] and statuses[2] == 429
    # Another tenant's pushes have their own budget.
    other = await api_client.post("/api/v1/flows?format=csv", content=body,
                                  headers={"Authorization": f"Bearer {bravo.tokens['analyst']}"})
    assert other.status_code == 202
    viewer = {"Authorization": f"Bearer {alpha.tokens['viewer']}"}
    answers = [(await api_client.get("/api/v1/snapshots", headers=viewer)).status_code for _ in range(7)]
    assert answers[:6] == [200] * 6 and answers[6] == 429
